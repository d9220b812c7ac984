import type { DBInstance, RDSClient } from '@aws-sdk/client-rds';
import { z } from 'zod';
import { type Plan, type ReadContext, ResourceGoneError, type Rule, type RuleTarget, type Step } from '../core/model/index.ts';
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
    return stateOf(cached ?? (await describeInstance(clients.rds, target)));
  },

  plan(state): Plan {
    const engineName = NO_PUBLIC_ACCESS_FLAG[state.engine];
    if (engineName) {
      return {
        status: 'unfixable',
        summary: `${describe(state)}: ${engineName} DB instances have no PubliclyAccessible setting (Security Hub RDS.2 cannot evaluate them), so there is nothing to change`,
      };
    }
    // Only PubliclyAccessible decides, so that the read after the write verifies while RDS still shows `modifying`.
    if (!state.publiclyAccessible) return { status: 'compliant', summary: describe(state) };
    if (state.cluster && !isAurora(state.engine)) {
      // "You can't modify the DB instances within a Multi-AZ DB cluster. All modifications must be done
      // at the DB cluster level." (RDS User Guide, Modifying a Multi-AZ DB cluster.)
      return {
        status: 'unfixable',
        summary: `${describe(state)}: it belongs to the Multi-AZ DB cluster ${state.cluster}, whose instances cannot be modified; turn public access off on the cluster (ModifyDBCluster)`,
      };
    }
    if (state.status !== 'available') {
      return {
        status: 'unfixable',
        summary: `${describe(state)}: the instance is ${state.status || 'in an unknown state'}, not available, so it cannot be modified now; nothing was changed (retried by the next finding)`,
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
