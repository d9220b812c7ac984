import type { DBInstance, RDSClient } from '@aws-sdk/client-rds';
import { z } from 'zod';
import { NotReadyError, type Plan, type ReadContext, ResourceGoneError, type Rule, type RuleTarget, type Step } from '../core/model/index.ts';
import { RDS } from './lib/clients.ts';
import { RDS_INSTANCE } from './lib/resources.ts';

const params = z.strictObject({});
type Params = z.infer<typeof params>;
type Clients = { rds: RDSClient };

export interface RdsInstancePublicAccessState {
  /** The DB instance identifier: what the API takes, and the id records and locks use (canonicalId). */
  identifier: string;
  /** The DbiResourceId (`db-…`), the name AWS Config gives the instance. */
  resourceId: string;
  engine: string;
  /** DBInstanceStatus: `available`, `modifying`, `stopped`, … */
  status: string;
  publiclyAccessible: boolean;
  /** The DB cluster the instance belongs to (Aurora, Neptune, DocumentDB, Multi-AZ DB cluster); null when none. */
  cluster: string | null;
}

/**
 * AWS Config names a DB instance by its DbiResourceId (`db-` and upper-case letters and digits);
 * an instance identifier is stored in lower case, so the two forms cannot be confused. AWS's
 * documentation does not state which id Config uses; third-party tooling does (Cloud Custodian's
 * RDS resource: `config_id = 'DbiResourceId'` for `AWS::RDS::DBInstance`). Either form is read.
 */
const RESOURCE_ID = /^db-[A-Z0-9]{10,}$/;

/** Engines whose instances have no PubliclyAccessible flag (Security Hub RDS.2: "cannot be evaluated"). */
const NO_PUBLIC_ACCESS_FLAG: Record<string, string> = { neptune: 'Neptune', docdb: 'DocumentDB' };

/**
 * The instance one describe returned, kept between readTags and readState (the engine calls them
 * in that order with the same target) so that a fix reads once. readState takes it out again, so
 * the verification after the write, and every later read, asks RDS afresh.
 */
const described = new WeakMap<RuleTarget, DBInstance>();

async function describeInstance(rds: RDSClient, target: RuleTarget): Promise<DBInstance> {
  const { DescribeDBInstancesCommand } = await import('@aws-sdk/client-rds');
  const id = target.resourceId;
  if (!RESOURCE_ID.test(id)) {
    // An identifier (Security Hub's ARN names it): DBInstanceNotFoundFault when it is gone.
    const output = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    const instance = output.DBInstances?.[0];
    if (!instance) throw new ResourceGoneError(`no DB instance ${id} in ${target.account}/${target.region}`);
    return instance;
  }
  // "dbi-resource-id - Accepts DB instance resource identifiers" (DescribeDBInstances, RDS API Reference).
  const output = await rds.send(new DescribeDBInstancesCommand({ Filters: [{ Name: 'dbi-resource-id', Values: [id] }] }));
  const matches = output.DBInstances ?? [];
  const [instance] = matches;
  if (!instance) throw new ResourceGoneError(`no DB instance with resource id ${id} in ${target.account}/${target.region}`);
  if (matches.length > 1 || instance.DbiResourceId !== id) {
    const names = matches.map((match) => `${match.DBInstanceIdentifier} (${match.DbiResourceId})`).join(', ');
    throw new Error(`DescribeDBInstances returned ${matches.length} DB instance(s) for resource id ${id}: ${names}; refusing to guess which one to change`);
  }
  return instance;
}

function stateOf(instance: DBInstance): RdsInstancePublicAccessState {
  if (!instance.DBInstanceIdentifier) throw new Error('DescribeDBInstances returned an instance without an identifier');
  return {
    identifier: instance.DBInstanceIdentifier,
    resourceId: instance.DbiResourceId ?? '',
    engine: instance.Engine ?? '',
    status: instance.DBInstanceStatus ?? '',
    publiclyAccessible: instance.PubliclyAccessible === true,
    cluster: instance.DBClusterIdentifier ?? null,
  };
}

function describe(state: RdsInstancePublicAccessState): string {
  const access = state.publiclyAccessible ? 'publicly accessible' : 'not publicly accessible';
  return `DB instance ${state.identifier} (${state.engine || 'unknown engine'}, ${state.status || 'unknown status'}): ${access}`;
}

/** Aurora instances carry the flag themselves; the instances of a Multi-AZ DB cluster do not. */
const isAurora = (engine: string) => engine.startsWith('aurora');

/**
 * DB instance statuses that pass on their own (RDS User Guide, Viewing DB instance status): the
 * instance becomes available (or, from stopping, stopped) without anyone acting, so the finding
 * waits: the event is delivered again later, with nothing recorded. AWS Config's event is a
 * compliance change, so no new event would come once the instance is available.
 */
const PASSING = new Set([
  'backing-up',
  'configuring-enhanced-monitoring',
  'configuring-iam-database-auth',
  'configuring-log-exports',
  'converting-to-vpc',
  'creating',
  'maintenance',
  'modifying',
  'moving-to-vpc',
  'rebooting',
  'renaming',
  'resetting-master-credentials',
  'starting',
  'stopping',
  'upgrading',
]);

/**
 * Statuses in which the instance takes the change: available, and storage-optimization, in which
 * "The DB instance is fully operational. However … you can't request any changes to the storage"
 * (RDS User Guide, Viewing DB instance status): PubliclyAccessible is no storage setting.
 */
const MODIFIABLE = new Set(['available', 'storage-optimization']);

/** Why the plan does not change the instance whatever its status, or null: the engine has no flag, a Multi-AZ DB cluster owns it. */
function neverChanged(state: RdsInstancePublicAccessState): string | null {
  const engineName = NO_PUBLIC_ACCESS_FLAG[state.engine];
  if (engineName) {
    return `${describe(state)}: ${engineName} DB instances have no PubliclyAccessible setting (Security Hub RDS.2 cannot evaluate them), so there is nothing to change`;
  }
  if (state.publiclyAccessible && state.cluster && !isAurora(state.engine)) {
    // "You can't modify the DB instances within a Multi-AZ DB cluster. All modifications must be done
    // at the DB cluster level." (RDS User Guide, Modifying a Multi-AZ DB cluster.)
    return `${describe(state)}: it belongs to the Multi-AZ DB cluster ${state.cluster}, whose instances cannot be modified; turn public access off on the cluster (ModifyDBCluster)`;
  }
  return null;
}

/** The status a public instance must leave before it can be changed, when it leaves it on its own. */
function passingStatus(state: RdsInstancePublicAccessState): string | null {
  if (!state.publiclyAccessible || neverChanged(state)) return null;
  return PASSING.has(state.status) ? state.status : null;
}

const rule: Rule<RdsInstancePublicAccessState, Params, Clients> = {
  id: 'rds-instance-public-access',
  title: 'RDS DB instance publicly accessible',
  resource: RDS_INSTANCE,
  clients: { rds: RDS },
  answers: {
    // rds-instance-public-access-check: "NON_COMPLIANT if the publiclyAccessible field is true in the
    // instance configuration item"; AWS::RDS::DBInstance, configuration changes, no parameters
    // (https://docs.aws.amazon.com/config/latest/developerguide/rds-instance-public-access-check.html).
    config: [{ identifier: 'RDS_INSTANCE_PUBLIC_ACCESS_CHECK', resourceTypes: ['AWS::RDS::DBInstance'], defaultName: 'rds-instance-public-access-check' }],
    // RDS.2 "RDS DB Instances should prohibit public access, as determined by the PubliclyAccessible
    // AWS Configuration" (Security Hub controls reference); findings name the instance by its ARN.
    securityHub: ['RDS.2'],
  },
  // Clients that reach the database from outside its VPC lose it: a person decides.
  defaultMode: 'approve',
  risk: 'high',
  params,
  permissions: { read: ['rds:DescribeDBInstances'] },
  operations: {
    // The fix and its undo: the same write with PubliclyAccessible false or true.
    'RDS.ModifyDBInstance': {
      client: 'rds',
      iamAction: 'rds:ModifyDBInstance',
      command: async () => (await import('@aws-sdk/client-rds')).ModifyDBInstanceCommand,
    },
  },

  /** The instance's TagList, from the describe readState then uses. */
  async readTags({ clients, target }: ReadContext<Params, Clients>) {
    const instance = await describeInstance(clients.rds, target);
    described.set(target, instance);
    return Object.fromEntries((instance.TagList ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
  },

  async readState({ clients, target }) {
    const cached = described.get(target);
    described.delete(target);
    const state = stateOf(cached ?? (await describeInstance(clients.rds, target)));
    // The first look at a finding (tags, then state) waits for a status that passes on its own.
    // The look after a write does not: its status is `modifying` while PubliclyAccessible already
    // reads false, and a read that still lags is read again by the engine's verification.
    const passing = cached ? passingStatus(state) : null;
    if (passing) throw new NotReadyError(`DB instance ${state.identifier} is ${passing}; public access is turned off once it is available`);
    return state;
  },

  plan(state): Plan {
    const never = neverChanged(state);
    if (never) return { status: 'unfixable', summary: never };
    // Only PubliclyAccessible decides, so that the read after the write verifies while RDS still shows `modifying`.
    if (!state.publiclyAccessible) return { status: 'compliant', summary: describe(state) };
    if (state.status === 'stopped') {
      // "You can't modify a stopped DB instance." (RDS User Guide, Stopping an Amazon RDS DB instance temporarily.)
      // AWS Config sends a compliance change only, so no new finding comes when the instance starts.
      return {
        status: 'unfixable',
        summary: `${describe(state)}: a stopped DB instance cannot be modified, so nothing was changed; a person must start it and turn public access off (or replay this finding once it is available): AWS Config reports this instance again only if its compliance changes`,
      };
    }
    if (PASSING.has(state.status)) {
      // Seen here only after a write (the first look waits instead): the change is not visible yet.
      return { status: 'unfixable', summary: `${describe(state)}: the instance is ${state.status}, and public access still reads on` };
    }
    if (!MODIFIABLE.has(state.status)) {
      return {
        status: 'unfixable',
        summary: `${describe(state)}: the instance is ${state.status || 'in an unknown state'}, a status the bot does not wait for, so it cannot be modified now; nothing was changed: a person must bring it back to available first`,
      };
    }
    // "Changes to the PubliclyAccessible parameter are applied immediately regardless of the value of the
    // ApplyImmediately parameter" (ModifyDBInstance, RDS API Reference). ApplyImmediately is left out: true
    // would also apply every other modification the owner queued for the maintenance window.
    const step: Step = {
      operation: 'RDS.ModifyDBInstance',
      input: { DBInstanceIdentifier: state.identifier, PubliclyAccessible: false },
      description: `turn public access off for DB instance ${state.identifier} (${state.engine}): its endpoint resolves to a private address only`,
      before: { identifier: state.identifier, publiclyAccessible: true },
      after: { identifier: state.identifier, publiclyAccessible: false },
      undo: { operation: 'RDS.ModifyDBInstance', input: { DBInstanceIdentifier: state.identifier, PubliclyAccessible: true } },
    };
    return {
      status: 'change',
      summary: step.description,
      steps: [step],
      risks: [`clients that connect to ${state.identifier} from outside its VPC (over the internet) can no longer reach the database`],
    };
  },

  describe,
  // A rollback compares public access only: the status moves on its own (`modifying`, `available`, `stopped`).
  fingerprint: (state) => ({ identifier: state.identifier, publiclyAccessible: state.publiclyAccessible }),
  // Config names the instance by DbiResourceId, Security Hub by ARN: one lock and one record key for both.
  canonicalId: (state) => state.identifier,
};

export default rule;
