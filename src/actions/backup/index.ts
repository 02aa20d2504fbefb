// The backup action's entry point (actions/backup/dist/index.js). It streams the data: V8's young
// generation is kept small before anything else is loaded (src/util/heap.ts).
import { keepYoungGenerationSmall } from '../../util/heap.ts';

keepYoungGenerationSmall();
const { run } = await import('./main.ts');
await run();
