#!/usr/bin/env node
// kindling runs its TypeScript sources directly on Node 24 (type stripping); the project pins
// Node 24 as a devDependency, so `npm run kindling -- ...` always gets it.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `kindling needs Node.js 24 or newer (this is ${process.version}). Run it through npm, which uses the project's Node 24: npm run kindling -- <command>\n`,
  );
  process.exit(2);
}
// Node's on-disk compile cache (os.tmpdir()/node-compile-cache, or $NODE_COMPILE_CACHE) keeps the
// type-stripped sources and V8 code between runs: a repeated command skips most compilation.
// NODE_DISABLE_COMPILE_CACHE=1 turns it off. It comes first, before the first .ts is imported: a
// .ts that misses the cache instantiates Node's TypeScript stripper (amaro, swc in WebAssembly),
// 20 MiB of resident memory for the rest of the process (a backup's floor went from 123 to 98 MiB
// when this moved up; test/unit/startup-modules.test.ts keeps it so).
(await import('node:module')).enableCompileCache?.();
// commands that stream data start once more with the malloc settings they need from the start
// (src/util/heap.ts; same process, replaced in place), then set their V8 flags (a young
// generation that does not grow, no optimising compilers) before anything else is loaded
const streaming = ['backup', 'restore', 'backups'].includes(process.argv[2] ?? '');
if (streaming) {
  const heap = await import('../src/util/heap.ts');
  // A cold compile cache (a fresh runner, a cleaned /tmp): heap.ts itself needed Node's TypeScript
  // stripper, and so would every module after it, in the image that streams: 20 MiB more for the
  // whole backup (137–140 MiB peak on the bench's data, against 118–122 with the cache warm). The
  // image about to be replaced loads the command's modules once and writes the cache, so the new
  // image finds every one there and never instantiates the stripper.
  // (With the new image's V8 flags: V8 rejects code cached under other flags.)
  if (heap.willReexec() && process.moduleLoadList.some((m) => m.includes('amaro'))) {
    heap.setStreamingV8Flags();
    for (const m of heap.STREAMING_MODULES) await import(m);
    (await import('node:module')).flushCompileCache?.();
  }
  heap.startWithStreamingEnvironment();
  heap.setStreamingV8Flags();
}
// A reader that goes away (`kindling --help | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
