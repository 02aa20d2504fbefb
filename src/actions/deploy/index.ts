// The deploy action's main step (actions/deploy/dist/index.js).
import { run } from './main.ts';

await run();
