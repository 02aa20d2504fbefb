// The deploy action's main step (actions/deploy/dist/index.js).
import { filterKnownWarnings } from '../../app/warnings.ts';
import { run } from './main.ts';

filterKnownWarnings();
await run();
