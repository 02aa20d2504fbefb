// The deploy action's post step (actions/deploy/dist/post.js).
import { run } from './cleanup.ts';

await run();
