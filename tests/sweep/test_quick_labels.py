"""A quick grid names its axes and values as the full grid does."""

from tuisim.sweep import load_sweep


def test_quick_axis_inherits_label_and_tick_labels():
    full = load_sweep("sweep_tanh_phase").grid.axes[0]
    quick = load_sweep("sweep_tanh_phase", quick=True).grid.axes[0]
    assert quick.label == full.label == "sigma_w^2"
    assert set(quick.labels) <= set(full.labels)
    named = dict(zip(full.values, full.labels))
    for v, lab in zip(quick.values, quick.labels):
        assert named[v] == lab
