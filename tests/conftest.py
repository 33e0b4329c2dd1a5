"""Fake AWS credentials and Powertools settings before any boto3 client exists."""

import os

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "healthcode",
        "POWERTOOLS_METRICS_NAMESPACE": "Healthcode",
        "POWERTOOLS_DEV": "false",
        # boto3 1.44 resolves account-ID endpoints, which moto's DynamoDB Streams do not answer
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
)
