// Abuse tier: one moto server for the tier (attacks tried over the wire), on a free 127.0.0.1 port,
// stopped at the end. Unlike the emulator tier, it does not check which commands were sent.
import type { TestProject } from 'vitest/node';
import { startMoto } from '../../local/moto.js';

export default async function setup(project: TestProject) {
  const moto = await startMoto();
  project.provide('motoEndpoint', moto.endpoint);
  return async () => {
    await moto.stop();
  };
}
