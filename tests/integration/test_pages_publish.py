"""make deploy publishes the pages to the stack's bucket (moto's S3): every page and script, the pinned
decoder, a config.json for the deployment (OIDC, no dev sign-in), and nothing of npm's own files."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from healthcode_ops import pages


def test_the_pages_and_their_configuration_are_published_with_their_types():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="pages")
        cfg = pages.config("https://abc.execute-api.cn-north-1.amazonaws.com.cn/prod/", "https://id.example/", "hc-api")
        written = pages.publish(s3, "pages", cfg)
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="pages")["Contents"]}
        assert keys == set(written)
        assert {"index.html", "resident.html", "checkpoint.html", "dashboard.html", "js/common.js", "app.css",
                "i18n/zh-CN.json", "vendor/jsQR.js", "config.json"} <= keys
        assert not {k for k in keys if "node_modules" in k or k.startswith("package") or k == "vendor.json"}
        page = s3.get_object(Bucket="pages", Key="resident.html")
        assert page["ContentType"] == "text/html; charset=utf-8" and page["CacheControl"] == "no-cache"
        assert s3.get_object(Bucket="pages", Key="vendor/jsQR.js")["ContentType"].startswith("text/javascript")
        published = json.loads(s3.get_object(Bucket="pages", Key="config.json")["Body"].read())
        assert published["api"] == "https://abc.execute-api.cn-north-1.amazonaws.com.cn/prod"
        assert published["dev_sign_in"] is False and published["oidc"]["issuer"] == "https://id.example"
        assert published["oidc"]["client_id"] == "hc-api"
