#!/usr/bin/env node
// XState side of the interpreter benchmark (scripts/bench-interp.sh runs it next
// to actor/bench_test.go). On the same cases as the Go benchmarks
// (actor/testdata/bench/{flat,parallel,history}.json) it measures:
//
//   step  events per second sent to an actor that is already created and
//         started (the events of the case, cycled), like BenchmarkStep;
//   case  whole cases per second: JSON.parse of the case text, then the
//         oracle's runCase (createMachine, createActor, every event, the
//         output steps), like BenchmarkCase (actor.RunCase on the bytes).
//
// XState comes from the oracle installation: XSTATE_ORACLE_DIR (default
// /work/scratch/oracle) must hold oracle.mjs and node_modules (npm ci).
// BENCH_SECONDS (default 1) is the measuring time per figure.
//
// Output: one line per figure, "step <case> <events/s> <events per CPU second>"
// or "case <case> <cases/s> <cases per CPU second>". CPU time is the process's
// (process.cpuUsage(): user + system, GC and JIT threads included), which is
// less sensitive than wall time to other processes on a loaded machine.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const caseDir = resolve(here, '../../actor/testdata/bench');
const oracleDir = resolve(process.env.XSTATE_ORACLE_DIR || '/work/scratch/oracle');
const seconds = Number(process.env.BENCH_SECONDS || 1);
const names = process.argv.slice(2).length ? process.argv.slice(2) : ['flat', 'parallel', 'history'];

function fail(msg) {
  process.stderr.write(`bench.mjs: ${msg}\n`);
  process.exit(1);
}

// Load xstate's ESM entry, the same module instance oracle.mjs imports.
const xstateDir = join(oracleDir, 'node_modules', 'xstate');
if (!existsSync(join(oracleDir, 'oracle.mjs')) || !existsSync(xstateDir)) {
  fail(`${oracleDir} needs oracle.mjs and node_modules/xstate (set XSTATE_ORACLE_DIR, run npm ci there)`);
}
const pkg = JSON.parse(readFileSync(join(xstateDir, 'package.json'), 'utf8'));
const { createActor } = await import(pathToFileURL(join(xstateDir, pkg.exports['.'].import)).href);
const { buildMachine, runCase } = await import(pathToFileURL(join(oracleDir, 'oracle.mjs')).href);

const now = () => Number(process.hrtime.bigint()) / 1e9;

// Runs fn in batches until `secs` have passed; returns operations per wall
// second and per CPU second.
function measure(secs, batch, fn) {
  let ops = 0;
  const c0 = process.cpuUsage();
  const t0 = now();
  let t = t0;
  while (t - t0 < secs) {
    for (let i = 0; i < batch; i++) fn(ops + i);
    ops += batch;
    t = now();
  }
  const c = process.cpuUsage(c0);
  return [ops / (t - t0), ops / ((c.user + c.system) / 1e6)];
}

for (const name of names) {
  const text = readFileSync(join(caseDir, `${name}.json`), 'utf8');
  const c = JSON.parse(text);
  const events = c.events;
  if (events.some((e) => e.type === '$wait')) fail(`${name}: bench events cannot be $wait`);

  // step: a created and started actor, events cycled.
  const actor = createActor(buildMachine(c));
  actor.start();
  const start = JSON.stringify(actor.getSnapshot().value);
  for (const e of events) actor.send(e);
  if (JSON.stringify(actor.getSnapshot().value) !== start) fail(`${name}: one pass over the events does not return to the start value`);
  const send = (i) => actor.send(events[i % events.length]);
  measure(seconds / 4, 1000, send); // warm-up (JIT)
  const [stepRate, stepCPU] = measure(seconds, 1000, send);
  const snap = actor.getSnapshot();
  if (snap.status !== 'active') fail(`${name}: actor is ${snap.status}`);
  actor.stop();
  console.log(`step ${name} ${stepRate.toFixed(0)} ${stepCPU.toFixed(0)}`);

  // case: parse + run the whole case, as the oracle's batch mode does per case.
  const run = () => {
    const r = runCase(JSON.parse(text));
    if (r.error || r.steps.length !== events.length + 1) fail(`${name}: runCase failed: ${r.error}`);
  };
  measure(seconds / 4, 10, run);
  const [caseRate, caseCPU] = measure(seconds, 10, run);
  console.log(`case ${name} ${caseRate.toFixed(1)} ${caseCPU.toFixed(1)}`);
}
