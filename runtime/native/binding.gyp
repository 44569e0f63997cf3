{
  "targets": [
    {
      "target_name": "maxq_spawn",
      "sources": ["spawn.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"],
      "conditions": [["OS!='linux'", {"type": "none"}]]
    }
  ]
}
