/**
 * Tags Amazon Bedrock puts on the network interfaces it creates for a customization job.
 * (The guide's prose spells the second one "BedrockModelCusomizationJobArn": a typo; this is the key.)
 */
export const BEDROCK_MANAGED_TAG = 'BedrockManaged';
export const BEDROCK_JOB_ARN_TAG = 'BedrockModelCustomizationJobArn';
