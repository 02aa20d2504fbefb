// The verify action's entry point (actions/verify/dist/index.js).
import { run } from './main.ts';

await run();
