"""The editor's form: an SOP file's values as fields and back, the buttons (moving, inserting and
deleting keep actors and Ya/Tidak targets on the same column and step), messages at their fields."""

from __future__ import annotations

from django.http import QueryDict

from procedures.authoring import form
from procedures.sopfile import Problem, load, validate
from tests.engine_fixtures import SEEDS

SHEET = {
    "kode": "uji", "nama": "Uji", "instansi": "Kantor", "pelaksana": ["Kepala", "Staf"],
    "langkah": [
        {"nomor": 1, "kegiatan": "A", "pelaksana": "Staf", "waktu": "1 jam"},
        {"nomor": 2, "kegiatan": "B. Setuju?", "pelaksana": "Kepala", "simbol": "keputusan", "waktu": "1 jam",
         "ya": 3, "tidak": 1},
        {"nomor": 3, "kegiatan": "C", "pelaksana": "Staf", "waktu": "1 jam"},
    ],
}


def as_post(state: form.EditorState) -> QueryDict:
    post = QueryDict(mutable=True)
    for key, value in {**state.identity, **state.lines}.items():
        post[key] = value
    for key, value in state.signer.items():
        post[f"disahkan_oleh-{key}"] = value
    for key, value in state.flags.items():
        if value:
            post[key] = "on"
    for column in state.columns:
        post.appendlist("kolom", column.key)
        post[f"c-{column.key}-nama"] = column.nama
    for step in state.steps:
        post.appendlist("langkah", step.key)
        for key, value in step.values.items():
            post[f"s-{step.key}-{key}"] = value
        for key in ("pelaksana", "simbol", "kelengkapan", "ya", "tidak"):
            post[f"s-{step.key}-{key}"] = getattr(step, key)
    return post


def roundtrip(state: form.EditorState) -> dict:
    return form.data_from_state(form.state_from_post(as_post(state)), instansi="Kantor")


def test_every_shipped_sop_goes_through_the_form_unchanged():
    for path in sorted(SEEDS.glob("*.yaml")):
        data = load(path.read_bytes()).as_dict()
        back = roundtrip(form.state_from_data(data))
        back["instansi"] = data["instansi"]
        assert validate(back).as_dict() == data, path.name


def test_moving_a_step_keeps_its_targets():
    state = form.state_from_data(SHEET)
    form.apply_op(state, f"step-down:{state.steps[0].key}")  # A goes below the decision
    data = roundtrip(state)
    assert [step["kegiatan"] for step in data["langkah"]] == ["B. Setuju?", "A", "C"]
    assert (data["langkah"][0]["ya"], data["langkah"][0]["tidak"]) == (3, 2)


def test_a_dragged_step_is_where_the_posted_order_puts_it_and_keeps_its_targets():
    state = form.state_from_data(SHEET)
    post = as_post(state)
    keys = [step.key for step in state.steps]
    post.setlist("langkah", [keys[2], keys[0], keys[1]])  # C dragged above A: the rows' order inputs
    moved = form.state_from_post(post)
    assert form.apply_op(moved, f"step-moved:{keys[2]}") == f"s-{keys[2]}"
    assert form.apply_op(moved, "step-moved:gone") is None
    data = form.data_from_state(moved, instansi="Kantor")
    assert [step["kegiatan"] for step in data["langkah"]] == ["C", "A", "B. Setuju?"]
    assert (data["langkah"][2]["ya"], data["langkah"][2]["tidak"]) == (1, 2)  # still C and A


def test_deleting_a_target_asks_for_it_again():
    state = form.state_from_data(SHEET)
    form.apply_op(state, f"step-delete:{state.steps[2].key}")
    data = roundtrip(state)
    assert "ya" not in data["langkah"][1] and data["langkah"][1]["tidak"] == 1


def test_renaming_and_reordering_columns_keeps_the_actors():
    state = form.state_from_data(SHEET)
    state.columns[1].nama = "Staf Pelaksana"
    form.apply_op(state, f"col-up:{state.columns[1].key}")
    data = roundtrip(state)
    assert data["pelaksana"] == ["Staf Pelaksana", "Kepala"]
    assert [step["pelaksana"] for step in data["langkah"]] == ["Staf Pelaksana", "Kepala", "Staf Pelaksana"]


def test_a_column_in_use_is_not_removed_but_an_unused_one_is():
    state = form.state_from_data(SHEET)
    form.apply_op(state, f"col-remove:{state.columns[0].key}")
    assert len(state.columns) == 2 and "Kepala" in state.notice
    form.apply_op(state, "col-add")
    form.apply_op(state, f"col-remove:{state.columns[2].key}")
    assert [column.nama for column in state.columns] == ["Kepala", "Staf"]


def test_messages_stand_at_the_field_they_concern():
    state = form.state_from_data(SHEET)
    problems = [Problem("langkah[1].waktu", "w"), Problem("langkah[2].kelengkapan[0]", "k"),
                Problem("pelaksana[1]", "p"), Problem("disahkan_oleh.nip", "n"), Problem("kop[2]", "kop"),
                Problem("", "umum"), Problem("langkah[9].waktu", "gone")]
    boxes = form.errors_by_field(problems, state)
    assert boxes[f"s-{state.steps[1].key}-waktu"] == ["w"]
    assert boxes[f"s-{state.steps[2].key}-kelengkapan"] == ["k"]
    assert boxes[f"c-{state.columns[1].key}"] == ["p"]
    assert boxes["disahkan_oleh-nip"] == ["n"] and boxes["kop"] == ["kop"]
    assert boxes[form.GENERAL] == ["umum"] and boxes["langkah"] == ["gone"]
    assert set(boxes) <= set(form.field_ids(state))


def test_odd_posts_give_a_state_not_an_error():
    post = QueryDict(mutable=True)
    post.setlist("langkah", ["../x", "ok", "ok", "A" * 50])
    post.setlist("kolom", ["ok"])
    post["s-ok-ya"] = "tidak-ada"
    state = form.state_from_post(post)
    assert [step.key for step in state.steps] == [] and [column.key for column in state.columns] == ["ok"]
    data = form.data_from_state(state, instansi="Kantor")
    assert data["langkah"] == [] and data["pelaksana"] == [""]


def test_a_textareas_line_ends_are_newlines_and_a_nul_is_shown():
    post = QueryDict(mutable=True)
    post["kop"] = "PEMERINTAH KOTA\r\nDINAS\rBIDANG\x00"
    state = form.state_from_post(post)
    assert form.data_from_state(state, instansi="Kantor")["kop"] == ["PEMERINTAH KOTA", "DINAS", "BIDANG\N{REPLACEMENT CHARACTER}"]
