"""The calling board (numbers called per clinic room): ``open_board`` / ``run_board``."""
from ui.board.app import BoardController, grab_png, open_board, place_beside, run_board, screenshot_board
from ui.board.window import BoardWindow

__all__ = ["BoardController", "BoardWindow", "grab_png", "open_board", "place_beside", "run_board",
           "screenshot_board"]
