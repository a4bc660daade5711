/** The fields of an artifact collection; GraphQL wants every type that implements the interface to list them again. */
const COLLECTION_FIELDS = /* GraphQL */ `  id: ID!
  name: String!
  description: String
  createdAt: DateTime!
  project: Project
  defaultArtifactType: ArtifactType!
  artifactMembership(aliasName: String!): ArtifactCollectionMembership
`;

/**
 * The GraphQL schema of the W&B door: the part of W&B's API that the `wandb` client (pinned in
 * test/wandb/requirements.txt) sends for runs and artifacts, written from its generated
 * operations. The client sends every input field it knows, often null, so input fields are
 * nullable unless the client always fills them; it checks `__typename`, so object types carry
 * W&B's names. Fields the door cannot answer meaningfully are absent: a query naming one is
 * refused with an error that names the operation.
 */
export const SCHEMA_SDL = /* GraphQL */ `
scalar JSONString
scalar JSON
scalar DateTime
scalar Int64
scalar Duration

enum ArtifactState { PENDING COMMITTED DELETED }
enum ArtifactDigestAlgorithm { MANIFEST_MD5 }
enum ArtifactManifestType { FULL PATCH INCREMENTAL }
enum ArtifactStorageLayout { V1 V2 }
enum CompleteMultipartAction { Complete Abort }

type Query {
  viewer: User
  serverInfo: ServerInfo
  project(name: String, entityName: String): Project
  model(name: String, entityName: String): Project
  artifact(id: ID!): Artifact
  entity(name: String): Entity
}

type Mutation {
  upsertBucket(input: UpsertBucketInput!): UpsertBucketPayload
  createRunFiles(input: CreateRunFilesInput!): CreateRunFilesPayload
  markRunFilesUploaded(input: MarkRunFilesUploadedInput!): MarkRunFilesUploadedPayload
  createArtifact(input: CreateArtifactInput!): CreateArtifactPayload
  createArtifactManifest(input: CreateArtifactManifestInput!): CreateArtifactManifestPayload
  createArtifactFiles(input: CreateArtifactFilesInput!): CreateArtifactFilesPayload
  completeMultipartUploadArtifact(input: CompleteMultipartUploadArtifactInput!): CompleteMultipartUploadArtifactPayload
  commitArtifact(input: CommitArtifactInput!): CommitArtifactPayload
  useArtifact(input: UseArtifactInput!): UseArtifactPayload
  addAliases(input: AddAliasesInput!): SuccessPayload
  deleteAliases(input: DeleteAliasesInput!): SuccessPayload
  deleteArtifact(input: DeleteArtifactInput!): DeleteArtifactPayload
}

type ServerInfo {
  features: [ServerFeature!]!
  cliVersionInfo: JSON
  latestLocalVersionInfo: LocalVersionInfo
}
type ServerFeature { name: String! isEnabled: Boolean! }
type LocalVersionInfo { outOfDate: Boolean! latestVersionString: String! versionOnThisInstanceString: String! }

type User {
  id: ID!
  name: String
  username: String
  email: String
  admin: Boolean
  flags: JSONString
  entity: String
  deletedAt: DateTime
  apiKeys: ApiKeyConnection
  teams: EntityConnection
}
type ApiKeyConnection { edges: [ApiKeyEdge!]! }
type ApiKeyEdge { node: ApiKey }
type ApiKey { id: ID! name: String! description: String }
type EntityConnection { edges: [EntityEdge!]! }
type EntityEdge { node: Entity }
type Entity { id: ID! name: String! organization: Organization }
type Organization { id: ID! name: String! coreWeaveOrganizationId: String }

type Project {
  id: ID!
  internalId: ID!
  name: String!
  entityName: String!
  entity: Entity!
  artifact(name: String!): Artifact
  artifactType(name: String!): ArtifactType
  artifactCollection(name: String!): ArtifactCollection
  artifactCollectionMembership(name: String!): ArtifactCollectionMembership
  bucket(name: String!, missingOk: Boolean): Run
  run(name: String!): Run
}

type Run {
  id: ID!
  name: String!
  displayName: String
  description: String
  notes: String
  config: JSONString
  summaryMetrics: JSONString
  sweepName: String
  jobType: String
  historyLineCount: Int
  logLineCount: Int
  eventsLineCount: Int
  historyTail: String
  eventsTail: String
  tags: [String!]!
  stopped: Boolean
  wandbConfig(keys: [String!]): JSONString
  project: Project
}

type ArtifactType { id: ID! name: String! }

interface ArtifactCollection {
${COLLECTION_FIELDS}}

type ArtifactSequence implements ArtifactCollection {
${COLLECTION_FIELDS}  latestArtifact: Artifact
}

type ArtifactCollectionMembership {
  id: ID!
  versionIndex: Int
  createdAt: DateTime!
  aliases: [ArtifactAlias!]!
  artifactCollection: ArtifactCollection
  artifact: Artifact
  files(names: [String!], after: String, first: Int): FileConnection
}

type ArtifactAlias {
  id: ID!
  alias: String!
  artifactCollection: ArtifactCollection
}

type Tag { id: ID! name: String! }

type Artifact {
  id: ID!
  artifactSequence: ArtifactSequence!
  versionIndex: Int
  artifactType: ArtifactType!
  description: String
  metadata: JSONString
  ttlDurationSeconds: Int64!
  ttlIsInherited: Boolean!
  tags: [Tag!]!
  historyStep: Int64
  state: ArtifactState!
  size: Int64!
  digest: String!
  digestAlgorithm: ArtifactDigestAlgorithm!
  commitHash: String
  fileCount: Int64!
  createdAt: DateTime!
  updatedAt: DateTime
  aliases: [ArtifactAlias!]!
  currentManifest: ArtifactManifest
  files(names: [String!], after: String, first: Int): FileConnection
}

type ArtifactManifest { id: ID! file: File! }

type File {
  id: ID!
  name: String!
  displayName: String!
  url: String
  sizeBytes: Int64!
  storagePath: String
  mimetype: String
  updatedAt: DateTime
  digest: String
  md5: String
  directUrl: String!
  uploadUrl: String
  uploadHeaders: [String!]
  uploadMultipartUrls: UploadMultipartUrls
  artifact: Artifact
}
type UploadMultipartUrls { uploadID: String! uploadUrlParts: [UploadUrlPart!]! }
type UploadUrlPart { partNumber: Int64! uploadUrl: String! }
type FileConnection { totalCount: Int! pageInfo: PageInfo! edges: [FileEdge!]! }
type FileEdge { node: File cursor: String }
type PageInfo { endCursor: String hasNextPage: Boolean! }

input UpsertBucketInput {
  id: String
  name: String
  groupName: String
  modelName: String
  entityName: String
  description: String
  displayName: String
  notes: String
  config: JSONString
  commit: String
  host: String
  debug: Boolean
  jobProgram: String
  jobRepo: String
  jobType: String
  state: String
  sweep: String
  tags: [String!]
  summaryMetrics: JSONString
  clientMutationId: String
}
type UpsertBucketPayload { bucket: Run inserted: Boolean }

input CreateRunFilesInput { entityName: String! projectName: String! runName: String! files: [String!]! clientMutationId: String }
type CreateRunFilesPayload { runID: ID! uploadHeaders: [String!]! files: [File!]! }
input MarkRunFilesUploadedInput { entityName: String! projectName: String! runName: String! files: [String!]! clientMutationId: String }
type MarkRunFilesUploadedPayload { success: Boolean! }

input ArtifactAliasInput { artifactCollectionName: String! alias: String! }
input TagInput { tagName: String! tagCategoryName: String attributes: String }
input CreateArtifactInput {
  aliases: [ArtifactAliasInput!]
  artifactCollectionName: String!
  artifactCollectionNames: [String!]
  artifactTypeName: String!
  clientID: ID
  clientMutationId: String
  description: String
  digest: String!
  digestAlgorithm: ArtifactDigestAlgorithm
  distributedID: String
  enableDigestDeduplication: Boolean
  entityName: String!
  historyStep: Int64
  labels: JSONString
  metadata: JSONString
  projectName: String!
  runName: String
  sequenceClientID: ID
  storageRegion: String
  tags: [TagInput!]
  ttlDurationSeconds: Int64
}
type CreateArtifactPayload { artifact: Artifact! }

input CreateArtifactManifestInput {
  artifactID: ID!
  baseArtifactID: ID
  name: String!
  digest: String!
  entityName: String!
  projectName: String!
  runName: String!
  type: ArtifactManifestType
  includeUpload: Boolean
  clientMutationId: String
}
type CreateArtifactManifestPayload { artifactManifest: ArtifactManifest! }

input UploadPartsInput { partNumber: Int64! hexMD5: String! }
input CreateArtifactFileSpecInput {
  artifactID: ID!
  artifactManifestID: ID
  name: String!
  md5: String!
  mimetype: String
  uploadPartsInput: [UploadPartsInput!]
}
input CreateArtifactFilesInput { artifactFiles: [CreateArtifactFileSpecInput!]! storageLayout: ArtifactStorageLayout cloudRegionID: String clientMutationId: String }
type CreateArtifactFilesPayload { files: FileConnection! }

input CompleteMultipartUploadArtifactInput {
  completeMultipartAction: CompleteMultipartAction!
  completedParts: [UploadPartsInput!]!
  artifactID: ID!
  storagePath: String!
  uploadID: String!
  clientMutationId: String
}
type CompleteMultipartUploadArtifactPayload { digest: String }

input CommitArtifactInput { artifactID: ID! clientMutationId: String }
type CommitArtifactPayload { artifact: Artifact! }

input UseArtifactInput {
  artifactID: ID!
  artifactEntityName: String
  artifactProjectName: String
  clientMutationId: String
  entityName: String!
  projectName: String!
  runName: String!
  usedAs: String
}
type UseArtifactPayload { artifact: Artifact! }

input ArtifactCollectionAliasInput { alias: String! artifactCollectionName: String! entityName: String! projectName: String! }
input AddAliasesInput { aliases: [ArtifactCollectionAliasInput!]! artifactID: ID! clientMutationId: String }
input DeleteAliasesInput { aliases: [ArtifactCollectionAliasInput!]! artifactID: ID! clientMutationId: String }
type SuccessPayload { success: Boolean! }
input DeleteArtifactInput { artifactID: ID! deleteAliases: Boolean clientMutationId: String }
type DeleteArtifactPayload { artifact: DeletedArtifact clientMutationId: String }
type DeletedArtifact { id: ID! }
`;
