/**
 * Services whose data-plane actions IAM's evidence never shows. "Action last accessed information is
 * not available for any data plane event" (IAM User Guide, "Refine permissions in AWS using last
 * accessed information"), and policy generation "does not identify action-level activity for data
 * events" (IAM User Guide, "IAM Access Analyzer policy generation"). A service in this list that was
 * used is never narrowed: its tracked or generated actions are its management actions only.
 *
 * Derived from the table "Data events supported by AWS CloudTrail" of the CloudTrail User Guide,
 * "Logging data events",
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html
 * (read 2026-11-29): each `resources.type` value, under the IAM service prefix (Service
 * Authorization Reference) of the actions it logs. Where the prefix is uncertain, every likely one is
 * listed: a prefix too many only narrows less. New rows in AWS's table must be added here.
 */
export const DATA_EVENT_SOURCE = 'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html';

/** IAM service prefix → the CloudTrail data event resource types of its actions. */
export const DATA_EVENT_TYPES: Readonly<Record<string, readonly string[]>> = {
  aidevops: ['AWS::AIDevOps::AgentSpace', 'AWS::AIDevOps::Association', 'AWS::AIDevOps::OperatorAppTeam', 'AWS::AIDevOps::PipelineMetadata', 'AWS::AIDevOps::Service'],
  aiops: ['AWS::AIOps::InvestigationGroup'],
  airflow: ['AWS::MWAA::Environment'],
  appconfig: ['AWS::AppConfig::Configuration'],
  appsync: ['AWS::AppSync::GraphQLApi'],
  b2bi: ['AWS::B2BI::Transformer'],
  backup: ['AWS::Backup::SearchJob'],
  'backup-search': ['AWS::Backup::SearchJob'],
  bedrock: [
    'AWS::Bedrock::AgentAlias',
    'AWS::Bedrock::AsyncInvoke',
    'AWS::Bedrock::FlowAlias',
    'AWS::Bedrock::Guardrail',
    'AWS::Bedrock::InlineAgent',
    'AWS::Bedrock::KnowledgeBase',
    'AWS::Bedrock::Model',
    'AWS::Bedrock::PromptVersion',
    'AWS::Bedrock::Session',
    'AWS::Bedrock::FlowExecution',
    'AWS::Bedrock::AutomatedReasoningPolicy',
    'AWS::Bedrock::AutomatedReasoningPolicyVersion',
    'AWS::Bedrock::DataAutomationProject',
    'AWS::Bedrock::DataAutomationInvocation',
    'AWS::Bedrock::DataAutomationProfile',
    'AWS::Bedrock::Blueprint',
    'AWS::Bedrock::Tool',
    'AWS::Bedrock::AdvancedOptimizePromptJob',
  ],
  'bedrock-agentcore': [
    'AWS::BedrockAgentCore::CodeInterpreter',
    'AWS::BedrockAgentCore::Browser',
    'AWS::BedrockAgentCore::WorkloadIdentity',
    'AWS::BedrockAgentCore::WorkloadIdentityDirectory',
    'AWS::BedrockAgentCore::TokenVault',
    'AWS::BedrockAgentCore::APIKeyCredentialProvider',
    'AWS::BedrockAgentCore::Runtime',
    'AWS::BedrockAgentCore::RuntimeEndpoint',
    'AWS::BedrockAgentCore::Gateway',
    'AWS::BedrockAgentCore::Memory',
    'AWS::BedrockAgentCore::OAuth2CredentialProvider',
    'AWS::BedrockAgentCore::BrowserCustom',
    'AWS::BedrockAgentCore::CodeInterpreterCustom',
    'AWS::BedrockAgentCore::Evaluator',
  ],
  cassandra: ['AWS::Cassandra::Table', 'AWS::Cassandra::Stream'],
  'cloudfront-keyvaluestore': ['AWS::CloudFront::KeyValueStore'],
  'cloudtrail-data': ['AWS::CloudTrail::Channel'],
  cloudwatch: ['AWS::CloudWatch::Metric'],
  'codeguru-profiler': ['AWS::CodeGuruProfiler::ProfilingGroup'],
  codewhisperer: ['AWS::CodeWhisperer::Customization', 'AWS::CodeWhisperer::Profile'],
  'cognito-identity': ['AWS::Cognito::IdentityPool'],
  // "Amazon Cost Optimization" (AWS::CloudOptimization::*): prefix not in the IAM action catalog; both likely ones.
  'compute-optimizer': ['AWS::CloudOptimization::Profile', 'AWS::CloudOptimization::Recommendation'],
  'cost-optimization-hub': ['AWS::CloudOptimization::Profile', 'AWS::CloudOptimization::Recommendation'],
  dataexchange: ['AWS::DataExchange::Asset'],
  deadline: ['AWS::Deadline::Fleet', 'AWS::Deadline::Job', 'AWS::Deadline::Queue', 'AWS::Deadline::Worker'],
  dsql: ['AWS::DSQL::Cluster'],
  dynamodb: ['AWS::DynamoDB::Table', 'AWS::DynamoDB::Stream'],
  ebs: ['AWS::EC2::Snapshot'],
  'ec2-instance-connect': ['AWS::EC2::InstanceConnectEndpoint'],
  ecs: ['AWS::ECS::ContainerInstance'],
  eks: ['AWS::EKS::Dashboard'],
  // EMR write-ahead log workspaces: `emrwal` is not in the IAM action catalog; EMR's own prefix too.
  elasticmapreduce: ['AWS::EMRWAL::Workspace'],
  emrwal: ['AWS::EMRWAL::Workspace'],
  finspace: ['AWS::FinSpace::Environment'],
  'finspace-api': ['AWS::FinSpace::Environment'],
  firehose: ['AWS::KinesisFirehose::DeliveryStream'],
  fsx: ['AWS::FSx::Volume'],
  gameliftstreams: ['AWS::GameLiftStreams::Application', 'AWS::GameLiftStreams::StreamGroup'],
  'geo-maps': ['AWS::GeoMaps::Provider'],
  'geo-places': ['AWS::GeoPlaces::Provider'],
  'geo-routes': ['AWS::GeoRoutes::Provider'],
  glue: ['AWS::Glue::Table'],
  greengrass: ['AWS::GreengrassV2::ComponentVersion', 'AWS::GreengrassV2::Deployment'],
  guardduty: ['AWS::GuardDuty::Detector', 'AWS::GuardDuty::MalwareScan'],
  iot: ['AWS::IoT::Certificate', 'AWS::IoT::Thing'],
  iotsitewise: ['AWS::IoTSiteWise::Asset', 'AWS::IoTSiteWise::TimeSeries', 'AWS::SitewiseAssistant::Conversation'],
  iottwinmaker: ['AWS::IoTTwinMaker::Entity', 'AWS::IoTTwinMaker::Workspace'],
  'kendra-ranking': ['AWS::KendraRanking::ExecutionPlan'],
  kinesis: ['AWS::Kinesis::Stream', 'AWS::Kinesis::StreamConsumer'],
  kinesisvideo: ['AWS::KinesisVideo::Stream', 'AWS::KinesisVideo::SignalingChannel'],
  lambda: ['AWS::Lambda::Function'],
  machinelearning: ['AWS::MachineLearning::MlModel'],
  managedblockchain: ['AWS::ManagedBlockchain::Network', 'AWS::ManagedBlockchain::Node'],
  'managedblockchain-query': ['AWS::ManagedBlockchainQuery::QueryAPI'],
  'medical-imaging': ['AWS::MedicalImaging::Datastore', 'AWS::MedicalImaging::Imageset'],
  mobiletargeting: ['AWS::Pinpoint::App'],
  'neptune-graph': ['AWS::NeptuneGraph::Graph'],
  'nova-act': ['AWS::NovaAct::WorkflowDefinition', 'AWS::NovaAct::WorkflowRun'],
  networkflowmonitor: ['AWS::NetworkFlowMonitor::Monitor', 'AWS::NetworkFlowMonitor::Scope'],
  one: ['AWS::One::UKey', 'AWS::One::User'],
  'payment-cryptography': ['AWS::PaymentCryptography::Alias', 'AWS::PaymentCryptography::Key'],
  'pca-connector-ad': ['AWS::PCAConnectorAD::Connector'],
  'pca-connector-scep': ['AWS::PCAConnectorSCEP::Connector'],
  q: ['AWS::QDeveloper::Integration'],
  qapps: ['AWS::QApps::QApp', 'AWS::QApps::QAppSession'],
  qbusiness: ['AWS::QBusiness::Application', 'AWS::QBusiness::DataSource', 'AWS::QBusiness::Index', 'AWS::QBusiness::WebExperience', 'AWS::QBusiness::Integration'],
  qdeveloper: ['AWS::QDeveloper::Integration'],
  quicksight: ['AWS::Quicksight::ActionConnector', 'AWS::QuickSight::Flow', 'AWS::QuickSight::FlowSession'],
  'rds-data': ['AWS::RDS::DBCluster'],
  redshift: ['AWS::Redshift::Cluster'],
  'redshift-data': ['AWS::Redshift::Cluster'],
  rum: ['AWS::RUM::AppMonitor'],
  s3: ['AWS::S3::Object', 'AWS::S3::AccessPoint', 'AWS::FSx::Volume'],
  's3-object-lambda': ['AWS::S3ObjectLambda::AccessPoint'],
  's3-outposts': ['AWS::S3Outposts::Object'],
  s3express: ['AWS::S3Express::Object'],
  s3tables: ['AWS::S3Tables::Table', 'AWS::S3Tables::TableBucket'],
  s3vectors: ['AWS::S3Vectors::VectorBucket', 'AWS::S3Vectors::Index'],
  sagemaker: ['AWS::SageMaker::Endpoint', 'AWS::SageMaker::FeatureGroup', 'AWS::SageMaker::ExperimentTrialComponent', 'AWS::SageMaker::MlflowTrackingServer'],
  scn: ['AWS::SCN::Instance'],
  sdb: ['AWS::SDB::Domain'],
  servicediscovery: ['AWS::ServiceDiscovery::Namespace', 'AWS::ServiceDiscovery::Service'],
  ses: ['AWS::SES::ConfigurationSet', 'AWS::SES::EmailIdentity', 'AWS::SES::Template'],
  signer: ['AWS::Signer::SigningJob', 'AWS::Signer::SigningProfile'],
  'sms-voice': ['AWS::SMSVoice::OriginationIdentity', 'AWS::SMSVoice::Message'],
  sns: ['AWS::SNS::PlatformEndpoint', 'AWS::SNS::Topic'],
  'social-messaging': ['AWS::SocialMessaging::PhoneNumberId', 'AWS::SocialMessaging::WabaId'],
  sqs: ['AWS::SQS::Queue'],
  ssm: ['AWS::SSM::ExecutionPreview', 'AWS::SSM::ManagedNode'],
  ssmmessages: ['AWS::SSMMessages::ControlChannel'],
  states: ['AWS::StepFunctions::Activity', 'AWS::StepFunctions::StateMachine'],
  // "Amazon Support" SupportAccess: prefix not in the IAM action catalog; the likely ones.
  supportaccess: ['AWS::SupportAccess::Tenant', 'AWS::SupportAccess::TrustingAccount', 'AWS::SupportAccess::TrustingRole'],
  supportauthz: ['AWS::SupportAccess::Tenant', 'AWS::SupportAccess::TrustingAccount', 'AWS::SupportAccess::TrustingRole'],
  swf: ['AWS::SWF::Domain'],
  thinclient: ['AWS::ThinClient::Device', 'AWS::ThinClient::Environment'],
  timestream: ['AWS::Timestream::Database', 'AWS::Timestream::RegionalEndpoint', 'AWS::Timestream::Table'],
  transform: ['AWS::Transform::AgentInstance'],
  'transform-custom': ['AWS::TransformCustom::Campaign', 'AWS::TransformCustom::Conversation', 'AWS::TransformCustom::KnowledgeItem', 'AWS::TransformCustom::Package'],
  verifiedpermissions: ['AWS::VerifiedPermissions::PolicyStore'],
  xray: ['AWS::XRay::Trace'],
};

/** The data event resource types of a service's actions (by IAM prefix, any case), or null when it has none. */
export function dataEventTypes(service: string): readonly string[] | null {
  return Object.hasOwn(DATA_EVENT_TYPES, service.toLowerCase()) ? (DATA_EVENT_TYPES[service.toLowerCase()] ?? null) : null;
}

/**
 * Actions never recorded at all: "The iam:PassRole action is not tracked and is not included in IAM
 * service last accessed information" (IAM User Guide, "Things to know about last accessed
 * information"); "The iam:PassRole action is not tracked by CloudTrail and is not included in generated
 * policies" (IAM User Guide, "IAM Access Analyzer policy generation"). AWS documents no other.
 * A wildcard that covered one is replaced by it, never dropped: its use cannot be seen.
 */
export const UNRECORDED_ACTIONS: readonly string[] = ['iam:PassRole'];
export const UNRECORDED_EVIDENCE = 'never recorded by IAM or CloudTrail; kept';
