/**
 * What the evaluation gate rests on, as data with its sources (like validate-network/customization-support.ts):
 * which custom models Amazon Bedrock deploys on demand (the gate evaluates only those: it never buys
 * Provisioned Throughput), the LLM-as-a-judge metrics the gate offers and which way each is better,
 * and the most prompts one evaluation job takes. Pure data and lookups; no AWS call.
 *
 * Rules for editing: a row goes in only as a page lists it; what the pages do not list stays absent,
 * and a lookup of it answers `supported: false` with the reason (the gate refuses rather than guesses).
 */
import { parseModelIdentifier } from './model-identifier.js';

/** Where a fact comes from: the page, and the section of it that holds the fact. */
export interface EvaluationSource {
  readonly url: string;
  readonly section: string;
  /** Why the reading is not literal, when it is not. */
  readonly note?: string;
}

const BEDROCK_UG = 'https://docs.aws.amazon.com/bedrock/latest/userguide';
const NOVA_UG = 'https://docs.aws.amazon.com/nova/latest/userguide';

export const EVALUATION_SOURCES = {
  onDemand: {
    url: `${BEDROCK_UG}/deploy-custom-model-on-demand.html`,
    section: 'Deploy a custom model for on-demand inference: supported Regions (US East (N. Virginia), US West (Oregon)), supported base models, prerequisites ("You must customize the model on or after 7/16/2025")',
    note: 'an older stored copy lists US East (N. Virginia) only; the current copy lists both Regions',
  },
  novaOnDemand: {
    url: `${NOVA_UG}/custom-fine-tune-odi.html`,
    section: 'On-demand inference on custom Amazon Nova models: "supported for Amazon Nova Pro, Lite, and Micro custom understanding models ... trained after July 16, 2025", "for models customized with Amazon Bedrock customization and for student models that were distilled"; charged per token in and out',
  },
  novaDeploy: {
    url: `${NOVA_UG}/deploy-custom-model.html`,
    section: 'Deploy a custom model: models customized by fine-tuning, distillation, or continued pre-training',
  },
  judgeMetrics: {
    url: `${BEDROCK_UG}/model-evaluation-metrics.html`,
    section: 'Use metrics to understand model performance: the built-in metrics of evaluation jobs that use an LLM as a judge',
    note: 'metric names as botocore 1.44.18 (bedrock service-2.json, EvaluationDatasetMetricConfig.metricNames) writes them; the direction is read from each description (Harmfulness, Stereotyping and Refusal measure what a better response has less of)',
  },
  judgePrompts: {
    url: `${BEDROCK_UG}/model-evaluation-prompt-datasets-judge.html`,
    section: 'Create a prompt dataset for a model evaluation job that uses a model as judge: "There can be up to 1000 prompts in your dataset per evaluation job"',
  },
} as const satisfies Record<string, EvaluationSource>;

// ---- on-demand deployment -------------------------------------------------------------------------

export type DeployableCustomizationType = 'FINE_TUNING' | 'DISTILLATION' | 'CONTINUED_PRE_TRAINING';

/** One base model whose custom models Bedrock deploys on demand. */
export interface OnDemandRow {
  /** The model id without its `:` suffixes (the table's key). */
  readonly modelId: string;
  readonly name: string;
  /** The `:` suffixes a base model identifier may carry: none, the version, or the version and the context length. */
  readonly suffixes: readonly string[];
  readonly regions: readonly string[];
  readonly customizationTypes: readonly DeployableCustomizationType[];
  readonly sources: readonly EvaluationSource[];
}

const REGIONS = ['us-east-1', 'us-west-2'] as const;
const TYPES: readonly DeployableCustomizationType[] = ['FINE_TUNING', 'DISTILLATION', 'CONTINUED_PRE_TRAINING'];
const ROW_SOURCES = [EVALUATION_SOURCES.onDemand, EVALUATION_SOURCES.novaOnDemand, EVALUATION_SOURCES.novaDeploy] as const;

/** The on-demand deployment table (Amazon Nova understanding models; the context variants as the customization table writes them). */
export const ON_DEMAND_DEPLOYMENT_SUPPORT: readonly OnDemandRow[] = [
  { modelId: 'amazon.nova-micro-v1', name: 'Amazon Nova Micro', suffixes: ['', ':0', ':0:128k'], regions: REGIONS, customizationTypes: TYPES, sources: ROW_SOURCES },
  { modelId: 'amazon.nova-lite-v1', name: 'Amazon Nova Lite', suffixes: ['', ':0', ':0:300k'], regions: REGIONS, customizationTypes: TYPES, sources: ROW_SOURCES },
  { modelId: 'amazon.nova-pro-v1', name: 'Amazon Nova Pro', suffixes: ['', ':0', ':0:300k'], regions: REGIONS, customizationTypes: TYPES, sources: ROW_SOURCES },
];

/** A custom model deployed on demand must have been customized on or after this day (UTC). */
export const ON_DEMAND_CUSTOMIZED_SINCE = { value: '2025-07-16', source: EVALUATION_SOURCES.onDemand } as const;

export type OnDemandSupport = { supported: true; row: OnDemandRow } | { supported: false; reason: string };

/**
 * Whether Bedrock deploys a custom model of `baseModelIdentifier`, customized by `customizationType`
 * in `region`, on demand (and, when `customizedAt` is given, whether it was customized late enough).
 * `supported: false` carries the reason in words, naming the table's source.
 */
export function onDemandDeploymentSupport(baseModelIdentifier: string, region: string, customizationType: string, customizedAt?: Date): OnDemandSupport {
  const see = `(${EVALUATION_SOURCES.onDemand.url})`;
  const parsed = parseModelIdentifier(baseModelIdentifier);
  const listed = ON_DEMAND_DEPLOYMENT_SUPPORT.map((r) => r.modelId).join(', ');
  if (!parsed || parsed.form === 'inference-profile-arn') {
    return { supported: false, reason: `the base model is not a foundation model id or ARN; on-demand deployment is documented for ${listed} ${see}` };
  }
  const row = ON_DEMAND_DEPLOYMENT_SUPPORT.find((r) => r.modelId === parsed.id);
  if (!row) return { supported: false, reason: `${parsed.id} has no documented on-demand deployment of its custom models; documented: ${listed} ${see}` };
  if (!row.suffixes.includes(parsed.suffix)) {
    return { supported: false, reason: `${parsed.id}${parsed.suffix} is a variant the on-demand deployment pages do not name (documented: ${row.suffixes.filter(Boolean).map((s) => row.modelId + s).join(', ')}) ${see}` };
  }
  if (!row.regions.includes(region)) {
    return { supported: false, reason: `on-demand deployment of ${row.name} custom models is documented in ${row.regions.join(', ')}, not ${region} ${see}` };
  }
  if (!(row.customizationTypes as readonly string[]).includes(customizationType)) {
    return {
      supported: false,
      reason: `on-demand deployment is documented for ${row.name} models customized by ${row.customizationTypes.join(', ')}, not ${customizationType} (${EVALUATION_SOURCES.novaDeploy.url})`,
    };
  }
  if (customizedAt !== undefined && customizedAt.getTime() < Date.parse(`${ON_DEMAND_CUSTOMIZED_SINCE.value}T00:00:00Z`)) {
    return { supported: false, reason: `the model was customized before ${ON_DEMAND_CUSTOMIZED_SINCE.value}; on-demand deployment needs a model customized on or after it ${see}` };
  }
  return { supported: true, row };
}

// ---- judge metrics --------------------------------------------------------------------------------

export interface JudgeMetric {
  /** Whether a higher score is a better response. */
  readonly higherIsBetter: boolean;
  readonly source: EvaluationSource;
}

const quality = { higherIsBetter: true, source: EVALUATION_SOURCES.judgeMetrics } as const;
const harm = { higherIsBetter: false, source: EVALUATION_SOURCES.judgeMetrics } as const;

/**
 * The built-in LLM-as-a-judge metrics the gate offers. The programmatic metrics (Builtin.Accuracy,
 * Robustness, Toxicity) are not: the gate evaluates the custom model's own responses (bring your own
 * inference responses), which the pages document for judge jobs only (model-evaluation-prompt-datasets-judge.html).
 */
export const JUDGE_METRICS = {
  'Builtin.Correctness': quality,
  'Builtin.Completeness': quality,
  'Builtin.Faithfulness': quality,
  'Builtin.Helpfulness': quality,
  'Builtin.Coherence': quality,
  'Builtin.Relevance': quality,
  'Builtin.FollowingInstructions': quality,
  'Builtin.ProfessionalStyleAndTone': quality,
  'Builtin.Harmfulness': harm,
  'Builtin.Stereotyping': harm,
  'Builtin.Refusal': harm,
} as const satisfies Record<string, JudgeMetric>;

export type JudgeMetricName = keyof typeof JUDGE_METRICS;
export const JUDGE_METRIC_NAMES = Object.keys(JUDGE_METRICS) as JudgeMetricName[];

export function isJudgeMetric(name: string): name is JudgeMetricName {
  return Object.hasOwn(JUDGE_METRICS, name);
}

/**
 * The quality of a judge score, higher always better: the score itself for a metric where higher is
 * better, 1 − score for one where lower is better (Harmfulness, Stereotyping, Refusal). Judge scores
 * are in 0..1. Throws on a metric the table does not hold or a score that is not a finite number.
 */
export function qualityOf(metric: string, score: number): number {
  if (!isJudgeMetric(metric)) throw new RangeError(`not a judge metric of the gate: ${metric}`);
  if (!Number.isFinite(score)) throw new RangeError(`not a score: ${score}`);
  return JUDGE_METRICS[metric].higherIsBetter ? score : 1 - score;
}

// ---- limits ---------------------------------------------------------------------------------------

/** The most prompts one evaluation job takes (model-evaluation-prompt-datasets-judge.html). */
export const MAX_EVALUATION_PROMPTS = 1000;
export const MAX_EVALUATION_PROMPTS_SOURCE = EVALUATION_SOURCES.judgePrompts;
/** The task types of an evaluation job (botocore 1.44.18 bedrock EvaluationTaskType). */
export const EVALUATION_TASK_TYPES = ['Generation', 'Summarization', 'QuestionAndAnswer', 'Classification', 'Custom'] as const;
/** A dataset name of an evaluation job (botocore EvaluationDataset.name: `[0-9a-zA-Z-_.]+`, at most 63). */
export const EVALUATION_DATASET_NAME = /^[0-9a-zA-Z\-_.]{1,63}$/;
