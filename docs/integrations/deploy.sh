#!/usr/bin/env bash
# A deploy script that records its deployment in shiplog (docs/integrations/README.md#shell).
# Usage: SHIPLOG_URL=https://shiplog.example.com SHIPLOG_TOKEN=... ./deploy.sh <environment> <version>
# `shiplog run` records started, runs the command, records succeeded or failed, and exits
# with the command's own exit code; if shiplog is unreachable the events are spooled and the
# deploy still runs.
set -euo pipefail

environment="${1:?usage: deploy.sh <environment> <version>}"
version="${2:?usage: deploy.sh <environment> <version>}"

shiplog run \
  --service checkout-api \
  --env "$environment" \
  --version "$version" \
  --deployment "checkout-api-$environment-$version-$(date +%s)" \
  -- kubectl --namespace "$environment" set image deployment/checkout-api \
    "app=registry.example.com/checkout-api:$version"
