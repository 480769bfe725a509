// Emulator tier: every SDK client the code under test creates reaches moto (AWS_ENDPOINT_URL).
import { inject } from 'vitest';
import '../../scripts/lib/node20.js';

process.env.AWS_ENDPOINT_URL = inject('motoEndpoint');
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
