import json
import zipfile

from tests.library.helpers import SMALL_GRID_YAML, write_tiny_csv


def test_export_writes_a_zip_predict_and_import_accept(cli, tmp_path):
    csv = write_tiny_csv(tmp_path / "tiny.csv")
    grid = tmp_path / "grid.yaml"
    grid.write_text(SMALL_GRID_YAML)
    assert cli("run", "--dataset", str(csv), "--pipeline", str(grid))[0] == 0
    out = tmp_path / "send" / "model.zip"
    payload = cli.json("export", "tiny/4", "--output", str(out))
    assert payload["type"] == "filtered" and payload["path"] == str(out) and out.is_file()
    full = tmp_path / "full.zip"
    status, stdout, err = cli("export", "tiny/4", "--output", str(full), "--include-data")
    assert status == 0 and "as a fullrun zip" in stdout, err
    with zipfile.ZipFile(full) as archive:
        assert {"data/Xcal.csv", "data/Ycal.csv"} <= set(archive.namelist())
    status, _, err = cli("export", "tiny/4", "--output", str(out))
    assert status == 2 and "already exists; pass --force" in err
    status, _, err = cli("export", "tiny/77", "--output", str(tmp_path / "x.zip"))
    assert status == 2 and "no pipeline '77'" in err
    predicted = tmp_path / "p.csv"
    assert cli("predict", "--model", str(out), "--data", str(csv), "--output", str(predicted))[0] == 0
    assert predicted.read_text().startswith("sample_id,y_pred,y_true\n")
    status, _, _ = cli("library", "import", str(full))
    assert status == 0 and json.loads(cli("library", "list", "--json")[1])[0]["type"] == "fullrun"
