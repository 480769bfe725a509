/**
 * The job's base model supports its customization type in the job's Region, and a distillation job's
 * teacher is paired with its student there, as AWS's pages list them (customization-support.ts).
 * A model the table does not know only warns: allowed, not guessed. A pure function of the job.
 */
import {
  lookupSupport,
  lookupTeacherSupport,
  modelsSupporting,
  regionsSupporting,
  SUPPORT_PAGES,
  teachersFor,
  type CustomizationType,
  type SupportAnswer,
  type TeacherAnswer,
} from './customization-support.js';
import { teacherModelOf, type JobInput } from '../shared/job-input.js';
import { CHECK, flag, pass, type CheckResult } from './check-result.js';

const list = (items: readonly string[]) => (items.length > 0 ? items.join(', ') : 'none');

export function modelSupportChecks(job: JobInput): CheckResult[] {
  const type = job.customizationType as CustomizationType;
  const checks = [baseModelCheck(job.baseModelIdentifier, type, job.region)];
  const teacher = type === 'DISTILLATION' ? teacherModelOf(job) : undefined;
  if (teacher !== undefined) checks.push(teacherCheck(teacher, job.baseModelIdentifier, job.region));
  return checks;
}

function baseModelCheck(model: string, type: CustomizationType, region: string): CheckResult {
  const answer = lookupSupport(model, type, region);
  const page = SUPPORT_PAGES[type];
  const id = CHECK.customizationSupported;
  if (answer.support === 'supported') {
    return pass(id, 'fail', model, `${answer.model!.name} supports ${type} in ${region} (${answer.row!.source.url})`);
  }
  if (answer.support === 'unknown') {
    const variant = answer.reason === 'other-variant' ? ` (the page writes ${answer.row!.documentedId}; this is another variant)` : '';
    return flag(
      id,
      'warn',
      model,
      `the base model is not in the table of models AWS lists for ${type}${variant}: allowed, not guessed`,
      `Check that ${page} lists the model for ${type} in ${region}; models listed there for ${region}: ${list(modelsSupporting(type, region))}.`,
    );
  }
  return flag(id, 'fail', model, unsupportedMessage(answer, type, region), unsupportedRemedy(answer, type, region));
}

function unsupportedMessage(answer: SupportAnswer, type: CustomizationType, region: string): string {
  const name = answer.model?.name ?? 'the base model';
  switch (answer.reason) {
    case 'region':
      return `${name} is listed for ${type} in ${list(answer.row!.regions)}, not in ${region} (${answer.row!.source.url})`;
    case 'provider-unavailable':
      return `${name}: the distillation page says distillation is not currently available for this provider's models (${SUPPORT_PAGES.DISTILLATION})`;
    default: {
      const others = Object.keys(answer.model!.support);
      return `${name} is not listed for ${type} (${SUPPORT_PAGES[type]}); it is listed for ${list(others)}`;
    }
  }
}

function unsupportedRemedy(answer: SupportAnswer, type: CustomizationType, region: string): string {
  const here = modelsSupporting(type, region);
  const elsewhere = `no model is listed for ${type} in ${region}; it is listed in ${list(regionsSupporting(type))}: run the workflow there`;
  const models = here.length > 0 ? `use a model listed for ${type} in ${region}: ${list(here)}` : elsewhere;
  if (answer.reason === 'region') {
    return `Run the workflow in ${list(answer.row!.regions)}, or ${models} (${SUPPORT_PAGES[type]}).`;
  }
  return `Change baseModelIdentifier (stage param baseModelIdentifier): ${models} (${SUPPORT_PAGES[type]}).`;
}

function teacherCheck(teacher: string, student: string, region: string): CheckResult {
  const answer = lookupTeacherSupport(teacher, student, region);
  const id = CHECK.customizationSupported;
  const page = SUPPORT_PAGES.DISTILLATION;
  const paired = teachersFor(student, region).map((t) => `${t.documentedId} (${describeInvocation(t.invocation)})`);
  if (answer.support === 'supported') {
    return pass(id, 'fail', teacher, `${answer.teacher!.name} teaches this student in ${region} (${page})`);
  }
  if (answer.support === 'unknown') {
    return flag(
      id,
      'warn',
      teacher,
      `the teacher/student pair is not in the distillation table${answer.reason === 'other-variant' ? ' (a model variant the page does not write)' : ''}: allowed, not guessed`,
      `Check that ${page} pairs the teacher with the student in ${region}; teachers listed there for this student: ${list(paired)}.`,
    );
  }
  return flag(id, 'fail', teacher, teacherMessage(answer, region), `Name a teacher the page pairs with this student in ${region}: ${list(paired)} (${page}).`);
}

function describeInvocation(invocation: string): string {
  return invocation === 'both' ? 'model id or inference profile' : invocation === 'on-demand' ? 'model id only' : 'inference profile only';
}

function teacherMessage(answer: TeacherAnswer, region: string): string {
  const name = answer.teacher?.name ?? 'the teacher';
  switch (answer.reason) {
    case 'student':
      return `${name} is not paired with this student model (its students: ${list(answer.teacher!.students.map((s) => s.documentedId))})`;
    case 'region':
      return `${name} teaches in ${list(answer.teacher!.regions)}, not in ${region}`;
    case 'needs-profile':
      return `${name} is listed for inference profiles only: name its system inference profile (e.g. us.${answer.teacher!.documentedId})`;
    case 'needs-on-demand':
      return `${name} is listed for on-demand use only: name the model id ${answer.teacher!.documentedId}, not an inference profile`;
    case 'provider-unavailable':
      return 'the distillation page says distillation is not currently available for this provider\'s models';
    default:
      return 'the teacher is a model the table knows, but not as a distillation teacher';
  }
}
