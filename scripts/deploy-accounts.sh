#!/usr/bin/env bash
# Deploys (or, with --package-only, packages) the same service to several accounts and regions.
# Each target is PROFILE:REGION:STAGE: an AWS CLI profile for the account, the region, and the
# stage whose params (serverless.yml `params:`) apply there.
#
#   scripts/deploy-accounts.sh sandbox-admin:us-east-1:sandbox prod-admin:eu-west-1:prod
#   scripts/deploy-accounts.sh --package-only sandbox-admin:us-east-1:sandbox
set -uo pipefail
cd "$(dirname "$0")/.."

command="deploy"
if [ "${1:-}" = "--package-only" ]; then
  command="package"
  shift
fi
if [ "$#" -eq 0 ]; then
  echo "usage: $0 [--package-only] PROFILE:REGION:STAGE ..." >&2
  exit 2
fi

failed=()
for target in "$@"; do
  IFS=: read -r profile region stage extra <<<"$target"
  if [ -z "$profile" ] || [ -z "$region" ] || [ -z "$stage" ] || [ -n "${extra:-}" ]; then
    echo "not PROFILE:REGION:STAGE: $target" >&2
    failed+=("$target")
    continue
  fi
  echo "== $command driftfix: stage $stage, region $region, profile $profile"
  args=(serverless "$command" --stage "$stage" --region "$region" --aws-profile "$profile")
  if [ "$command" = "package" ]; then args+=(--package ".serverless-$stage-$region"); fi
  if ! npx --no-install "${args[@]}"; then failed+=("$target"); fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
echo "done: $# target(s)"
