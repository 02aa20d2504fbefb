// The verify action's entry point (actions/verify/dist/index.js).
import { filterKnownWarnings } from '../../app/warnings.ts';
import { run } from './main.ts';

filterKnownWarnings();
await run();
