/**
 * The preflight check customization.supported (functions/validate-network/checks-model-support.ts):
 * pass for a listed model/type/Region, warn for a model the table does not know, fail naming the page
 * and what is supported otherwise; for distillation also the teacher/student pair.
 */
import { describe, expect, it } from 'vitest';
import { SUPPORT_PAGES } from '../../functions/validate-network/customization-support.js';
import type { JobInput } from '../../functions/shared/job-input.js';
import { CHECK } from '../../functions/validate-network/check-result.js';
import { modelSupportChecks } from '../../functions/validate-network/checks-model-support.js';
import { resolvedJob } from '../fixtures/job.js';

/** The resolved fixture job (Titan Text Express, fine-tuning, us-east-1) with `changes` laid over it. */
function job(changes: Partial<JobInput> & Record<string, unknown> = {}): JobInput {
  return { ...resolvedJob(), ...changes } as JobInput;
}

function distillation(teacher: string, student: string, region = 'us-east-1'): JobInput {
  return job({
    baseModelIdentifier: student,
    customizationType: 'DISTILLATION',
    region,
    customizationConfig: { distillationConfig: { teacherModelConfig: { teacherModelIdentifier: teacher } } },
  } as Partial<JobInput>);
}

describe('customization.supported', () => {
  it('passes a model listed for the type in the job\'s Region', () => {
    const checks = modelSupportChecks(job());
    expect(checks).toEqual([expect.objectContaining({ id: CHECK.customizationSupported, passed: true, resource: 'amazon.titan-text-express-v1' })]);
    expect(checks[0]!.id).toBe('customization.supported');
  });

  it('passes a foundation-model ARN of a listed model', () => {
    const [check] = modelSupportChecks(
      job({ baseModelIdentifier: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-2-lite-v1:0:256k', customizationType: 'REINFORCEMENT_FINE_TUNING' } as Partial<JobInput>),
    );
    expect(check).toMatchObject({ passed: true, severity: 'fail' });
  });

  it('warns, and lets the job go on, for a model the table does not know', () => {
    const [check] = modelSupportChecks(job({ baseModelIdentifier: 'amazon.titan-text-premier-v1:0' }));
    expect(check).toMatchObject({ passed: false, severity: 'warn', resource: 'amazon.titan-text-premier-v1:0' });
    expect(check!.message).toContain('allowed, not guessed');
    expect(check!.remedy).toContain(SUPPORT_PAGES.FINE_TUNING);
  });

  it('fails a listed model in a Region its row does not list, naming the Regions and the page', () => {
    const [check] = modelSupportChecks(job({ baseModelIdentifier: 'amazon.nova-micro-v1:0:128k', region: 'us-west-2' }));
    expect(check).toMatchObject({ passed: false, severity: 'fail' });
    expect(check!.message).toContain('us-east-1');
    expect(check!.remedy).toContain('Run the workflow in us-east-1');
    expect(check!.remedy).toContain(SUPPORT_PAGES.FINE_TUNING);
    // Models that are listed where the job runs.
    expect(check!.remedy).toContain('meta.llama3-1-8b-instruct-v1:0:128k');
  });

  it('fails a listed model and a type it is not listed for, naming the models listed for it', () => {
    const [check] = modelSupportChecks(job({ customizationType: 'REINFORCEMENT_FINE_TUNING' } as Partial<JobInput>));
    expect(check).toMatchObject({ passed: false, severity: 'fail', resource: 'amazon.titan-text-express-v1' });
    expect(check!.message).toContain('FINE_TUNING, CONTINUED_PRE_TRAINING');
    expect(check!.remedy).toContain('amazon.nova-2-lite-v1:0:256k');
    expect(check!.remedy).toContain(SUPPORT_PAGES.REINFORCEMENT_FINE_TUNING);
  });

  it('says to run elsewhere when no model is listed for the type in the Region', () => {
    const [check] = modelSupportChecks(job({ customizationType: 'CONTINUED_PRE_TRAINING', region: 'eu-west-1' } as Partial<JobInput>));
    expect(check).toMatchObject({ passed: false, severity: 'fail' });
    expect(check!.remedy).toContain('us-east-1, us-west-2');
  });

  describe('distillation', () => {
    it('passes a pair of the table and checks the student too', () => {
      const checks = modelSupportChecks(distillation('us.amazon.nova-premier-v1:0', 'amazon.nova-lite-v1:0:300k'));
      expect(checks).toHaveLength(2);
      expect(checks.every((c) => c.passed)).toBe(true);
      expect(checks[1]!.resource).toBe('us.amazon.nova-premier-v1:0');
    });

    it('fails a teacher that is not paired with the student, naming the teachers that are', () => {
      const checks = modelSupportChecks(distillation('amazon.nova-pro-v1:0', 'amazon.nova-pro-v1:0:300k'));
      expect(checks[0]).toMatchObject({ passed: true });
      expect(checks[1]).toMatchObject({ passed: false, severity: 'fail', resource: 'amazon.nova-pro-v1:0' });
      expect(checks[1]!.remedy).toContain('amazon.nova-premier-v1:0 (inference profile only)');
      expect(checks[1]!.remedy).toContain(SUPPORT_PAGES.DISTILLATION);
    });

    it('fails a teacher named on demand that the page lists for inference profiles only', () => {
      const checks = modelSupportChecks(distillation('amazon.nova-premier-v1:0', 'amazon.nova-micro-v1:0:128k'));
      expect(checks[1]).toMatchObject({ passed: false, severity: 'fail' });
      expect(checks[1]!.message).toContain('inference profiles only');
    });

    it('fails a teacher in another Region, named by a profile where the page lists it on demand only, or not a teacher', () => {
      const [, region] = modelSupportChecks(distillation('meta.llama3-1-70b-instruct-v1:0', 'meta.llama3-1-8b-instruct-v1:0:128k', 'us-east-1'));
      expect(region).toMatchObject({ passed: false, severity: 'fail' });
      expect(region!.message).toContain('teaches in us-west-2, not in us-east-1');
      const [, profile] = modelSupportChecks(distillation('us.meta.llama3-1-405b-instruct-v1:0', 'meta.llama3-1-8b-instruct-v1:0:128k', 'us-west-2'));
      expect(profile).toMatchObject({ passed: false, severity: 'fail' });
      expect(profile!.message).toContain('name the model id meta.llama3-1-405b-instruct-v1:0');
      const [, notTeacher] = modelSupportChecks(distillation('amazon.nova-lite-v1:0', 'amazon.nova-micro-v1:0:128k'));
      expect(notTeacher).toMatchObject({ passed: false, severity: 'fail' });
      expect(notTeacher!.message).toContain('not as a distillation teacher');
    });

    it('warns for a teacher the table does not know', () => {
      const checks = modelSupportChecks(distillation('deepseek.r1-v1:0', 'amazon.nova-micro-v1:0:128k'));
      expect(checks[1]).toMatchObject({ passed: false, severity: 'warn' });
    });

    it('fails distilling into an Anthropic model, which the page withdraws', () => {
      const checks = modelSupportChecks(distillation('anthropic.claude-3-5-sonnet-20241022-v2:0', 'anthropic.claude-3-haiku-20240307-v1:0:200k', 'us-west-2'));
      expect(checks.map((c) => [c.passed, c.severity])).toEqual([
        [false, 'fail'],
        [false, 'fail'],
      ]);
    });
  });

  it('checks no teacher for the other types', () => {
    expect(modelSupportChecks(job())).toHaveLength(1);
  });
});
