import {
  AttemptContext,
  DifficultyBand,
  JobName,
  JobStatus,
  PlanTrigger,
  PlanUnitStatus,
  Role,
} from '../generated/prisma/enums.ts';
import { builder } from './builder.ts';

export const RoleEnum = builder.enumType(Role, { name: 'Role' });
export const DifficultyBandEnum = builder.enumType(DifficultyBand, { name: 'DifficultyBand' });
export const AttemptContextEnum = builder.enumType(AttemptContext, { name: 'AttemptContext' });
export const PlanUnitStatusEnum = builder.enumType(PlanUnitStatus, { name: 'PlanUnitStatus' });
export const PlanTriggerEnum = builder.enumType(PlanTrigger, { name: 'PlanTrigger' });
export const JobNameEnum = builder.enumType(JobName, { name: 'JobName' });
export const JobStatusEnum = builder.enumType(JobStatus, { name: 'JobStatus' });
