"""Ward board (queue display) for clinic rooms: ``open_board`` / ``run_board``."""
from .app import BoardController, grab_png, open_board, open_demo_board, run_board, screenshot_board
from .board import BoardWindow

__all__ = ["BoardController", "BoardWindow", "grab_png", "open_board", "open_demo_board", "run_board",
           "screenshot_board"]
