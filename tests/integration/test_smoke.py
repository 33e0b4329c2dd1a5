from tests.people import application


def test_apply_then_see_code(system):
    me = system.resident("user-1")
    r = me("POST", "/v1/applications", application())
    assert r.status == 200, r.body
    print(r.json())
    r = me("GET", "/v1/codes/me")
    assert r.status == 200, r.body
