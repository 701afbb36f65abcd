"""The config loader: defaults, file, env overrides, and errors a person can act on."""

from __future__ import annotations

import pytest

from anyray.config import DEFAULT_VERTEX_BETAS, ConfigError, load_config


def test_defaults_without_a_file_route_claude_to_anthropic():
    config = load_config(env={})
    assert config.gateway.host == "127.0.0.1"
    assert config.gateway.port == 8787
    assert config.optimizer.port == 8088
    assert config.providers.vertex.betas == DEFAULT_VERTEX_BETAS
    route = config.model_map()["claude-*"]
    assert route.provider == "anthropic" and route.fallbacks == []


def test_vertex_project_from_env_makes_vertex_primary_with_anthropic_fallback():
    config = load_config(env={"GOOGLE_CLOUD_PROJECT": "p1", "CLOUD_ML_REGION": "global", "ANTHROPIC_API_KEY": "k"})
    assert config.providers.vertex.project == "p1"
    assert config.providers.vertex.location == "global"
    route = config.model_map()["claude-*"]
    assert route.provider == "vertex"
    assert [t.provider for t in route.fallbacks] == ["anthropic"]


def test_file_env_expansion_and_overrides(tmp_path):
    path = tmp_path / "anyray.yaml"
    path.write_text(
        "gateway:\n  port: 9000\n"
        "providers:\n  anthropic:\n    api_key: ${MY_KEY}\n    base_url: ${PSC_URL:-https://psc.example}\n"
        "  vertex:\n    project: proj\n    location: europe-west1\n"
        "models:\n  claude-sonnet-4-5:\n    provider: vertex\n    model: claude-sonnet-4-5@20250929\n"
        "    fallbacks:\n      - provider: anthropic\n"
    )
    env = {"MY_KEY": "sk-ant-xyz", "ANYRAY_GATEWAY__PORT": "9100", "ANYRAY_OPTIMIZER__BUDGET_MS": "250"}
    config = load_config(path, env=env)
    assert config.gateway.port == 9100  # env beats file
    assert config.optimizer.budget_ms == 250
    assert config.providers.anthropic.api_key.get_secret_value() == "sk-ant-xyz"
    assert config.providers.anthropic.base_url == "https://psc.example"
    route = config.model_map()["claude-sonnet-4-5"]
    assert route.model == "claude-sonnet-4-5@20250929"
    assert route.fallbacks[0].provider == "anthropic"
    assert "sk-ant-xyz" not in repr(config)  # secrets never print


def test_config_path_from_env_variable(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("gateway:\n  port: 9999\n")
    assert load_config(env={"ANYRAY_CONFIG": str(path)}).gateway.port == 9999


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("gateway:\n  port: abc\n", "gateway.port (line 2)", "valid integer"),
        ("providers:\n  vertex:\n    locaton: x\n", "providers.vertex.locaton (line 3)", "unknown key"),
        ("models:\n  m:\n    provider: azure\n", "models.m.provider (line 3)", "'anthropic', 'vertex' or 'openai'"),
        ("providers:\n  vertex:\n    location: US East\n", "providers.vertex.location (line 3)", "us-east5"),
    ],
)
def test_bad_file_names_file_key_line_and_expectation(tmp_path, text, key, expected):
    path = tmp_path / "anyray.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert str(path) in message
    assert key in message
    assert expected in message


def test_not_yaml_and_missing_file(tmp_path):
    path = tmp_path / "anyray.yaml"
    path.write_text("gateway: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path, env={})
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml", env={})


def test_a_target_in_another_region_is_a_vertex_target_with_a_location_shape(tmp_path):
    path = tmp_path / "anyray.yaml"
    path.write_text("models:\n  claude-*:\n    provider: vertex\n    fallbacks:\n"
                    "    - {provider: vertex, location: europe-west1}\n    - {provider: anthropic, location: eu}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert any("location is a Vertex region: provider anthropic is served from one place" in why
               for _, why in info.value.problems)
    path.write_text("models:\n  claude-*:\n    provider: vertex\n    location: 'europe west1'\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert any("expected a Vertex location" in why for _, why in info.value.problems)
    path.write_text("models:\n  claude-*:\n    provider: vertex\n"
                    "    fallbacks: [{provider: vertex, location: global}]\n")
    route = load_config(path, env={}).model_map()["claude-*"]
    assert (route.key, route.fallbacks[0].key) == ("vertex", "vertex@global")
