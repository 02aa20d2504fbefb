// The backup action's entry point (actions/backup/dist/index.js). It streams the data: a larger
// V8 heap, set at start-up by relaunching once (src/util/heap.ts).
import { relaunchWithHeapFlags } from '../../util/heap.ts';
import { run } from './main.ts';

const relaunched = await relaunchWithHeapFlags();
if (relaunched === undefined) await run();
else process.exitCode = relaunched;
