"""Kafka security settings reach every client: aiokafka options and faust
credentials (the embedded broker speaks PLAINTEXT only, so this is as far as
the suite can test against a real server)."""

import faust

from tindaklanjut.adapters import kafka
from tindaklanjut.config import Settings
from tindaklanjut.services.worker import broker_credentials


def test_plaintext_adds_nothing():
    settings = Settings(environment="test")
    assert settings.kafka_security() == {} and broker_credentials(settings) is None


async def test_sasl_scram_over_tls_reaches_aiokafka_and_faust():
    settings = Settings(environment="test", kafka_security_protocol="SASL_SSL", kafka_sasl_username="tl",
                        kafka_sasl_password="rahasia", kafka_sasl_mechanism="SCRAM-SHA-256")
    assert kafka.producer(settings).client._security_protocol == "SASL_SSL"
    consumer = kafka.consumer(settings, "assessment.published", group_id="g")
    assert consumer._client._sasl_mechanism == "SCRAM-SHA-256"
    assert consumer._client._sasl_plain_username == "tl"
    credentials = broker_credentials(settings)
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.username, credentials.password, credentials.mechanism.value) == \
        ("tl", "rahasia", "SCRAM-SHA-256")
    assert credentials.ssl_context is not None


def test_tls_only_gives_ssl_credentials():
    settings = Settings(environment="test", kafka_security_protocol="SSL")
    assert isinstance(broker_credentials(settings), faust.SSLCredentials)
    assert "sasl_mechanism" not in settings.kafka_security()
