// Starts a script with posix_spawn. libuv starts children with fork(), whose cost grows with the
// parent's address space: on a 2-core VM it took 8.3 ms of the server's CPU per start at 113 MiB.
// glibc's posix_spawn uses clone(CLONE_VM | CLONE_VFORK): no page tables are copied, so a start
// costs the same small amount whatever the server's size (0.7 ms of CPU; docs/performance.md).
//
// Exports:
//   spawn(command, cwd, env) -> [pid, stdoutFd, stderrFd] on success, or an errno number
//   reap(pid)                -> null while running, else [exitCode, signalNumber], -1 for the one
//                               that does not apply; [-1, -1] if pid is not a child left to wait for

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(call)                                                                               \
  do {                                                                                            \
    if ((call) != napi_ok) {                                                                      \
      napi_throw_error(env, NULL, "maxq native spawn: N-API call failed: " #call);                \
      return NULL;                                                                                \
    }                                                                                             \
  } while (0)

// A copy of a JS string; NULL (with an exception pending) if it is not one.
static char *copy_string(napi_env env, napi_value value) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "maxq native spawn: expected a string");
    return NULL;
  }
  char *text = malloc(length + 1);
  if (text == NULL) {
    napi_throw_error(env, NULL, "maxq native spawn: out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, value, text, length + 1, &length);
  return text;
}

static void free_strings(char **strings, uint32_t count) {
  if (strings == NULL) return;
  for (uint32_t i = 0; i < count; i++) free(strings[i]);
  free(strings);
}

static napi_value make_int_array(napi_env env, const int *values, uint32_t count) {
  napi_value array;
  CHECK(napi_create_array_with_length(env, count, &array));
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    CHECK(napi_create_int32(env, values[i], &item));
    CHECK(napi_set_element(env, array, i, item));
  }
  return array;
}

// Runs command in cwd with exactly env, as the leader of a new session (so of its own process
// group), stdin from /dev/null, stdout and stderr into two new pipes whose read ends are returned.
static int spawn_script(const char *command, const char *cwd, char **envp, pid_t *pid, int out[2],
                        int err[2]) {
  int status = 0;
  out[0] = out[1] = err[0] = err[1] = -1;
  // O_CLOEXEC: the child keeps only the dup2'ed copies; no other child inherits these.
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    status = errno;
    goto fail;
  }

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawn_file_actions_addchdir_np(&actions, cwd);
  // Node ignores SIGPIPE and may block signals in this thread; a script must start with the
  // defaults, as it would from a shell.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  char *argv[] = {(char *)command, NULL};
  status = posix_spawn(pid, command, &actions, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (status != 0) goto fail;

  close(out[1]);
  close(err[1]);
  return 0;

fail:
  for (int i = 0; i < 2; i++) {
    if (out[i] >= 0) close(out[i]);
    if (err[i] >= 0) close(err[i]);
  }
  return status;
}

static napi_value Spawn(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3];
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc != 3) {
    napi_throw_type_error(env, NULL, "maxq native spawn: spawn(command, cwd, env)");
    return NULL;
  }

  char *command = NULL, *cwd = NULL, **envp = NULL;
  uint32_t envc = 0;
  napi_value result = NULL;
  bool is_array = false;
  if ((command = copy_string(env, args[0])) == NULL) goto done;
  if ((cwd = copy_string(env, args[1])) == NULL) goto done;
  if (napi_is_array(env, args[2], &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, NULL, "maxq native spawn: env must be an array of NAME=value");
    goto done;
  }
  napi_get_array_length(env, args[2], &envc);
  envp = calloc(envc + 1, sizeof(char *));
  if (envp == NULL) {
    napi_throw_error(env, NULL, "maxq native spawn: out of memory");
    goto done;
  }
  for (uint32_t i = 0; i < envc; i++) {
    napi_value item;
    napi_get_element(env, args[2], i, &item);
    if ((envp[i] = copy_string(env, item)) == NULL) goto done;
  }

  pid_t pid = 0;
  int out[2], err[2];
  int status = spawn_script(command, cwd, envp, &pid, out, err);
  if (status != 0) {
    napi_create_int32(env, status, &result);
  } else {
    int values[3] = {pid, out[0], err[0]};
    result = make_int_array(env, values, 3);
  }

done:
  free(command);
  free(cwd);
  free_strings(envp, envc);
  return result;
}

static napi_value Reap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  int32_t pid = 0;
  CHECK(napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
  if (argc != 1 || napi_get_value_int32(env, arg, &pid) != napi_ok || pid <= 0) {
    napi_throw_type_error(env, NULL, "maxq native spawn: reap(pid)");
    return NULL;
  }
  int status = 0;
  pid_t done;
  do {
    done = waitpid(pid, &status, WNOHANG);
  } while (done < 0 && errno == EINTR);
  if (done == 0) {
    napi_value null_value;
    CHECK(napi_get_null(env, &null_value));
    return null_value;
  }
  // ECHILD: not our child, or already reaped; nothing more will be learnt about it.
  int values[2] = {-1, -1};
  if (done > 0 && WIFEXITED(status)) values[0] = WEXITSTATUS(status);
  if (done > 0 && WIFSIGNALED(status)) values[1] = WTERMSIG(status);
  return make_int_array(env, values, 2);
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"spawn", NULL, Spawn, NULL, NULL, NULL, napi_default, NULL},
      {"reap", NULL, Reap, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, 2, props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
