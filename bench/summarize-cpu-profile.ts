// `node dist/bench/summarize-cpu-profile.js <file.cpuprofile> [--top N]`
// Reads a V8 CPU profile (node --cpu-prof) and prints the top functions by self time, and the
// same time grouped by file (node_modules collapsed to the package), so one can see where a
// process spends its CPU without a GUI.

import { readFileSync } from 'node:fs'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  hitCount?: number
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

function fileOf(url: string): string {
  if (url === '') return '(native / vm)'
  const path = url.replace(/^file:\/\//, '')
  const modules = path.lastIndexOf('/node_modules/')
  if (modules >= 0) {
    const rest = path.slice(modules + '/node_modules/'.length).split('/')
    const name = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? '')
    return `node_modules/${name}`
  }
  const dist = path.indexOf('/dist/')
  return dist >= 0 ? path.slice(dist + 1) : path
}

function main(): void {
  const args = process.argv.slice(2)
  const file = args.find((arg) => !arg.startsWith('--'))
  const topIndex = args.indexOf('--top')
  const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 20
  if (file === undefined) {
    process.stderr.write('usage: node dist/bench/summarize-cpu-profile.js <file.cpuprofile> [--top N]\n')
    process.exit(2)
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const selfUs = new Map<number, number>()
  if (profile.samples && profile.timeDeltas) {
    // Each sample's time is the delta to the next sample.
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i]
      const delta = profile.timeDeltas[i + 1] ?? 0
      if (id !== undefined) selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, delta))
    }
  } else {
    const total = profile.endTime - profile.startTime
    const hits = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0)
    for (const node of profile.nodes) selfUs.set(node.id, ((node.hitCount ?? 0) / Math.max(1, hits)) * total)
  }
  const wall = (profile.endTime - profile.startTime) / 1000
  let idle = 0
  const functions = new Map<string, { ms: number; file: string }>()
  const files = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const node = byId.get(id)
    if (node === undefined) continue
    const frame = node.callFrame
    const ms = us / 1000
    if (frame.functionName === '(idle)') {
      idle += ms
      continue
    }
    const where = fileOf(frame.url)
    const key = `${frame.functionName || '(anonymous)'} ${where}${frame.url ? `:${frame.lineNumber + 1}` : ''}`
    const entry = functions.get(key) ?? { ms: 0, file: where }
    entry.ms += ms
    functions.set(key, entry)
    files.set(where, (files.get(where) ?? 0) + ms)
  }
  const busy = wall - idle
  const pct = (ms: number): string => `${((ms / busy) * 100).toFixed(1).padStart(5)}%`
  console.log(`profile ${file}: ${wall.toFixed(0)} ms wall, ${busy.toFixed(0)} ms busy (not idle)`)
  console.log(`\ntop ${top} functions by self time (share of busy time):`)
  for (const [key, entry] of [...functions].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    console.log(`  ${entry.ms.toFixed(1).padStart(8)} ms ${pct(entry.ms)}  ${key}`)
  }
  console.log('\nself time by file:')
  for (const [where, ms] of [...files].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${ms.toFixed(1).padStart(8)} ms ${pct(ms)}  ${where}`)
  }
}

main()
