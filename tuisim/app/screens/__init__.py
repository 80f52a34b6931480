"""The app's screens: the scenario browser, the run screen and its dialogs."""
