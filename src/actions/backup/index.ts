// The backup action's entry point (actions/backup/dist/index.js). It streams the data: the runner
// starts `node dist/index.js` as any command is started, so it takes the same start-up settings as
// the CLI's streaming commands (src/util/heap.ts): the process replaced once with one malloc arena,
// then V8's young generation kept small, before anything else is loaded.
import { setStreamingV8Flags, startWithStreamingEnvironment } from '../../util/heap.ts';

startWithStreamingEnvironment();
setStreamingV8Flags();
const { run } = await import('./main.ts');
await run();
