// Every GraphQL document the studio sends. One fragment for what a card shows, one more for the detail view.

export const CARD_FIELDS = /* GraphQL */ `
  fragment CardFields on VideoJob {
    id version status upstreamStatus progress etaSeconds queuePosition
    prompt negativePrompt size width height durationSeconds enablePromptExpansion seed
    creativeUnitsCost createdAt updatedAt submittedAt completedAt
    error { code message hint retryable }
    audio { id fileName durationSeconds }
    videos { id url urlExpiresAt thumbnailUrl mimeType byteSize width height durationSeconds }
  }
`;

export const DETAIL_FIELDS = /* GraphQL */ `
  fragment DetailFields on VideoJob {
    ...CardFields
    upstreamJobId
    events { seq at status upstreamStatus progress message }
    videos { frameRate }
  }
  ${CARD_FIELDS}
`;

export const STUDIO_QUERY = /* GraphQL */ `
  query Studio {
    viewer { id name activeJobs maxActiveJobs }
    videoModel { id name sizes { size width height } durationsSeconds maxPromptLength maxNegativePromptLength upstream }
  }
`;

export const VIEWER_QUERY = /* GraphQL */ `
  query Viewer { viewer { id name activeJobs maxActiveJobs } }
`;

/** The live tray after a load or a reconnect: every unfinished job, and the jobs the tray showed before. */
export const TRAY_QUERY = /* GraphQL */ `
  query Tray($ids: [ID!]!) {
    active: videoJobs(first: 50, filter: { status: [PENDING, QUEUED, IN_PROGRESS] }) {
      edges { node { ...CardFields } }
    }
    known: nodes(ids: $ids) { id ... on VideoJob { ...CardFields } }
  }
  ${CARD_FIELDS}
`;

export const HISTORY_QUERY = /* GraphQL */ `
  query History($first: Int!, $after: String, $filter: VideoJobFilter) {
    videoJobs(first: $first, after: $after, filter: $filter, orderBy: CREATED_AT_DESC) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { ...CardFields } }
    }
  }
  ${CARD_FIELDS}
`;

export const GENERATE_MUTATION = /* GraphQL */ `
  mutation Generate($input: GenerateVideoInput!) {
    generateVideo(input: $input) {
      __typename
      ... on GenerateVideoSuccess { deduplicated job { ...CardFields } }
      ... on ValidationError { fieldErrors { path message } }
      ... on QuotaExceededError { limit quotaRetryAfterSeconds: retryAfterSeconds }
      ... on RateLimitedError { retryAfterSeconds }
      ... on IdempotencyConflictError { existingJob { id } }
      ... on UpstreamError { retryable }
      ... on Error { code message }
    }
  }
  ${CARD_FIELDS}
`;

export const CANCEL_MUTATION = /* GraphQL */ `
  mutation Cancel($id: ID!) {
    cancelVideoJob(id: $id) {
      __typename
      ... on CancelVideoJobSuccess { job { ...CardFields } }
      ... on NotCancelableError { refusedJob: job { ...CardFields } }
      ... on Error { code message }
    }
  }
  ${CARD_FIELDS}
`;

export const DELETE_MUTATION = /* GraphQL */ `
  mutation Delete($id: ID!) {
    deleteVideoJob(id: $id) {
      __typename
      ... on DeleteVideoJobSuccess { deletedId }
      ... on ValidationError { fieldErrors { path message } }
      ... on Error { code message }
    }
  }
`;

export const UPLOAD_AUDIO_MUTATION = /* GraphQL */ `
  mutation UploadAudio($file: File!) {
    uploadAudio(file: $file) {
      __typename
      ... on UploadAudioSuccess { audio { id fileName mimeType byteSize durationSeconds url } }
      ... on ValidationError { fieldErrors { path message } }
      ... on Error { code message }
    }
  }
`;

export const LIVE_SUBSCRIPTION = /* GraphQL */ `
  subscription Live { videoJobsUpdated { ...CardFields } }
  ${CARD_FIELDS}
`;

export const JOB_SUBSCRIPTION = /* GraphQL */ `
  subscription Job($id: ID!) { jobUpdated(id: $id) { ...DetailFields } }
  ${DETAIL_FIELDS}
`;
