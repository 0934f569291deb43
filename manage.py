#!/usr/bin/env python
from gongzhi.cli import main

if __name__ == "__main__":
    main()
