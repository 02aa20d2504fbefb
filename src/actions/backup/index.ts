// The backup action's entry point (actions/backup/dist/index.js). It streams the data: the runner
// starts `node dist/index.js` as any command is started, so it takes the same V8 flags as the CLI's
// streaming commands (src/util/heap.ts), before anything else is loaded.
import { setStreamingV8Flags } from '../../util/heap.ts';

setStreamingV8Flags();
const { run } = await import('./main.ts');
await run();
