"""Plans (督查计划): open or covert, their assignees, weekly series, and fair random draws."""
