"""The OpenAPI document is generated from the schemas that validate requests."""

from sync.messages import DeviceLogin


def test_openapi_document_is_public_and_lists_the_phone_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json
    assert doc["openapi"].startswith("3.")
    login = doc["paths"]["/auth/device"]["post"]
    assert login["security"] == []
    assert set(login["responses"]) >= {"201", "401", "422", "429"}
    logout = doc["paths"]["/auth/device"]["delete"]
    assert "204" in logout["responses"] and "401" in logout["responses"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_request_schema_is_the_validating_model(client):
    doc = client.get("/api/v1/openapi.json").json
    ref = doc["paths"]["/auth/device"]["post"]["requestBody"]["content"]["application/json"]
    name = ref["schema"]["$ref"].rsplit("/", 1)[-1]
    schema = doc["components"]["schemas"][name]
    assert set(schema["required"]) == set(DeviceLogin.model_json_schema()["required"])
    assert schema["additionalProperties"] is False  # unknown fields are refused


def test_every_api_route_is_in_the_document(app, client):
    doc = client.get("/api/v1/openapi.json").json
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi":
            continue
        path = rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (path, method)
