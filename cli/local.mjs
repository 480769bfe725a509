#!/usr/bin/env node
// `npm run local`: cli/local.ts, built into cli/dist/ (`npm run build`).
import { loadBuilt } from './launch.mjs';

await loadBuilt('local');
