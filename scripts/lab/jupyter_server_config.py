# JupyterLab settings for `make lab` (exploring the stage notebooks).
# The notebooks in notebooks/ are committed without outputs: saving one (by hand or by
# JupyterLab's autosave) strips its outputs, so exploring never changes them in git.
c = get_config()  # noqa: F821 - provided by Jupyter when it reads this file
c.FileContentsManager.pre_save_hook = "pipeline.orchestration.explore.strip_outputs_before_save"
