import shutil

from nirs4all_workspace.experiment import execute_and_serialize


def _save(workspace, engine, dataset, scale):
    spec = engine.expand({"scales": [scale]})[0]
    result, artifacts = execute_and_serialize(engine, spec, dataset)
    return workspace.saver.save(dataset.name, spec, result, artifacts, session="s", engine="fake")


def _best_files(workspace):
    return [p.name for p in workspace.layout.best_csv_files("fake")]


def test_best_file_is_replaced_only_by_a_better_score(workspace, fake_engine, fake_dataset):
    worse = _save(workspace, fake_engine, fake_dataset, 1.5)
    assert workspace.best.offer("fake", worse, "rmse", "min")
    assert _best_files(workspace) == [f"best_{worse.handle.folder}.csv"]
    better = _save(workspace, fake_engine, fake_dataset, 1.1)
    assert workspace.best.offer("fake", better, "rmse", "min")
    same_as_worse = _save(workspace, fake_engine, fake_dataset, 1.5)
    assert not workspace.best.offer("fake", same_as_worse, "rmse", "min")
    assert _best_files(workspace) == [f"best_{better.handle.folder}.csv"]
    best_csv = workspace.layout.best_csv("fake", better.handle.folder)
    assert best_csv.read_text() == better.handle.paths.predictions_csv.read_text()


def test_a_new_metric_recomputes_the_best(workspace, fake_engine, fake_dataset):
    a = _save(workspace, fake_engine, fake_dataset, 0.5)
    b = _save(workspace, fake_engine, fake_dataset, 1.0)
    workspace.best.offer("fake", a, "rmse", "max")  # the worst rmse wins under "max"
    assert workspace.best.current("fake").folder == a.handle.folder
    workspace.best.offer("fake", a, "rmse", "min")
    assert workspace.best.current("fake").folder == b.handle.folder
    assert len(_best_files(workspace)) == 1


def test_deleting_the_best_pipeline_moves_the_best_to_the_next(workspace, fake_engine, fake_dataset):
    a = _save(workspace, fake_engine, fake_dataset, 1.0)
    b = _save(workspace, fake_engine, fake_dataset, 1.2)
    c = _save(workspace, fake_engine, fake_dataset, 1.4)
    for saved in (a, b):
        workspace.best.offer("fake", saved, "rmse", "min")
    shutil.rmtree(a.handle.paths.dir)
    best = workspace.best.recompute("fake", "rmse", "min")
    assert best.folder == b.handle.folder
    assert _best_files(workspace) == [f"best_{b.handle.folder}.csv"]
    assert c.handle.folder not in _best_files(workspace)[0]
