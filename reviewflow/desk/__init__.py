"""The review desk (`reviewflow serve`): the library's review calls as web pages for the board.

app.py routes requests (Flask, served by waitress), security.py decides who may make them,
pages.py and preview.py read what each page shows through `ContentRepo`, worddiff.py marks
what changed word by word.
"""
