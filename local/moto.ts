/**
 * Starts moto server (the AWS emulator) from the project's .venv on a free 127.0.0.1 port and stops
 * it again. Used by the emulator test tier (vitest globalSetup), `npm run local` and `npm run bench`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { projectRoot } from './paths.js';

export interface MotoServer {
  endpoint: string;
  port: number;
  /** Clears every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** A port the OS reports free on 127.0.0.1 at this moment. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startMoto(options: { timeoutMs?: number } = {}): Promise<MotoServer> {
  const python = join(projectRoot, '.venv', 'bin', 'python');
  if (!existsSync(python)) {
    throw new Error('The Python environment is missing: run `node scripts/ensure-venv.mjs` (npm test and npm run local do).');
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(python, [join(projectRoot, 'python', 'moto_server.py'), '-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, TZ: 'UTC' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const stopOnExit = () => child.kill('SIGKILL');
  process.once('exit', stopOnExit);

  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (true) {
    if (child.exitCode !== null) throw new Error(`moto server exited (${child.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto server did not answer on ${endpoint} within ${options.timeoutMs ?? 30_000} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    endpoint,
    port,
    reset: () => resetMoto(endpoint),
    stop: () => stopChild(child, stopOnExit),
  };
}

/** Clears every resource of the moto server at `endpoint` (POST /moto-api/reset). */
export async function resetMoto(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
}

async function stopChild(child: ChildProcess, listener: () => void): Promise<void> {
  process.off('exit', listener);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
