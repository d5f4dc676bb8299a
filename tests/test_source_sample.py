"""The bundled sample states only what its drawings show."""

import json

from stvqa.stages.load.sources.sample import TOUCHING, write_sample


def test_interactions_that_need_contact_are_stated_only_between_things_that_touch(tmp_path) -> None:
    # v3 said "the man is pushing the bicycle" with the bicycle across the street (seen on a card, round six).
    write_sample(tmp_path, n_images=60)
    checked = 0
    for image in json.loads((tmp_path / "relationships.json").read_text()):
        for r in image["relationships"]:
            if r["predicate"] in TOUCHING:
                s, o = r["subject"], r["object"]
                assert min(s["x"] + s["w"], o["x"] + o["w"]) - max(s["x"], o["x"]) > -8, (image["image_id"], r["predicate"])
                assert min(s["y"] + s["h"], o["y"] + o["h"]) > max(s["y"], o["y"]), (image["image_id"], r["predicate"])
                checked += 1
    assert checked  # some are stated at all
