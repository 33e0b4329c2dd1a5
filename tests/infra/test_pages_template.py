"""The pages' hosting in the template: a private bucket only the distribution reads, HTTPS only, a
strict CSP, and the API's CORS for exactly the pages' origins."""

from __future__ import annotations

from healthcode_local.template import Template

T = Template()
R = T.resources


def test_the_bucket_is_private_and_only_the_distribution_reads_it():
    bucket = R["PagesBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    policy = R["PagesBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    reads = [s for s in policy if s["Effect"] == "Allow"]
    assert len(reads) == 1 and reads[0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert reads[0]["Action"] == "s3:GetObject" and "AWS:SourceArn" in reads[0]["Condition"]["StringEquals"]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in policy)
    origin = R["PagesDistribution"]["Properties"]["DistributionConfig"]["Origins"][0]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["PagesOriginAccessControl", "Id"]}
    oac = R["PagesOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["SigningBehavior"], oac["SigningProtocol"]) == ("always", "sigv4")


def test_the_distribution_speaks_https_only_with_strict_security_headers():
    cfg = R["PagesDistribution"]["Properties"]["DistributionConfig"]
    behaviour = cfg["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "https-only" and behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "PagesSecurityHeaders"}
    assert cfg["ViewerCertificate"]["MinimumProtocolVersion"].startswith("TLSv1.2")
    sec = R["PagesSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = sec["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    directives = dict(d.split(" ", 1) if " " in d else (d, "") for d in csp.split("; "))
    assert directives["default-src"] == "'none'" and directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in csp and "*" not in directives["script-src"]
    assert sec["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert sec["FrameOptions"]["FrameOption"] == "DENY"


def test_the_api_allows_the_pages_origins_and_nothing_else():
    cors = R["HttpApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == [{"Fn::Sub": "https://${PagesDistribution.DomainName}"}, {"Ref": "PagesOrigin"}]
    assert "*" not in cors["AllowOrigins"] and "Authorization" in cors["AllowHeaders"]
    assert {"X-Token-Expires-At", "X-Token-Lifetime"} <= set(cors["ExposeHeaders"])
    assert T.doc["Parameters"]["PagesOrigin"]["AllowedPattern"].startswith("^https://")
