// Abuse tier: attacks against the state-machine harness (mocked clients, as in the unit setup) and
// against moto (clients from test/support/moto-clients.ts reach it through AWS_ENDPOINT_URL).
import { inject } from 'vitest';
import './unit.js';

process.env.AWS_ENDPOINT_URL = inject('motoEndpoint');
