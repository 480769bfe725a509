// Emulator tier: one moto server for the whole tier, on a free 127.0.0.1 port, stopped at the end.
import type { TestProject } from 'vitest/node';
import { startMoto } from '../../scripts/lib/moto.js';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const moto = await startMoto();
  project.provide('motoEndpoint', moto.endpoint);
  return async () => moto.stop();
}
