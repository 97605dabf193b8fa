#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=256
// The heap flags size V8 for a long-running server: by default it lets garbage pile up to
// several hundred MB on a large machine, while shiplog's live set is tens of MB (npm start
// passes the same flags).
import { main } from '../dist/cli/main.js';

await main(process.argv);
