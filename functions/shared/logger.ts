/** The Powertools structured logger shared by all handlers (JSON lines, correlation by request id). */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'bedrock-vpc-customization' });
