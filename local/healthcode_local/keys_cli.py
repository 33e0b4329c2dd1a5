"""Rotate the QR signing key of a deployment: ``python -m healthcode_local.keys_cli --secret ARN --parameter NAME``."""

from __future__ import annotations

import argparse

import boto3

from healthcode_local.keys import rotate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--secret", required=True, help="SigningKeySecret ARN (stack output)")
    parser.add_argument("--parameter", required=True, help="JwksParameter name (stack output)")
    args = parser.parse_args()
    kid = rotate(boto3.client("secretsmanager"), boto3.client("ssm"), args.secret, args.parameter)
    print(f"active signing key: {kid}")


if __name__ == "__main__":
    main()
