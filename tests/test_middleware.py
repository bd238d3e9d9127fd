import pytest
from django.test import Client


@pytest.mark.django_db
def test_pages_are_in_indonesian_whatever_the_browser_language(settings):
    settings.LANGUAGE_CODE = "id"
    response = Client().get("/masuk/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "id"
    assert 'lang="id"' in response.content.decode()


@pytest.mark.django_db
def test_the_language_switch_chooses_english(settings):
    settings.LANGUAGE_CODE = "id"
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/masuk/"})
    response = client.get("/masuk/")
    assert response["Content-Language"] == "en"
    assert 'lang="en"' in response.content.decode()
